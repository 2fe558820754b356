"""The BuildImage step: `factory` builds the SDK step; `job/` is what runs inside it (and in `pipelines.build`)."""

__all__ = ["factory", "job"]
