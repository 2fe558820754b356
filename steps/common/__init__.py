"""Code shared by every step: the AWS session factory and the processing-step plumbing.

Subpackage `__init__`s import nothing, so a step's container imports only what it uses.
"""

__all__ = ["aws", "bundle", "processing", "s3", "sdk"]
