"""The Train step: its TrainingStep factory, its parameters and overrides; `job/` is the image's entry point."""

__all__ = ["factory", "job", "overrides", "parameters"]
