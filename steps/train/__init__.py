"""The Train step: its TrainingStep factory, its parameters, and the entry point baked into the image."""

__all__ = ["entry", "factory", "parameters"]
