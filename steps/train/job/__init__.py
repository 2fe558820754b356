"""The training image's entry point: stdlib only, Python 3.8; copied into the image as a folder."""

__all__ = ["entry"]
