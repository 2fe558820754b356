"""The laptop side shared by the step factories: the SDK loaded offline, the step bundle, the ProcessingStep helper.

Nothing here ships into a job.
"""

__all__ = ["bundle", "offline", "processing"]
