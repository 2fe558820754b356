"""One sub-package per DAG step: the SDK step factory, the container module, and their shared logic."""

__all__ = ["build_image", "common", "preflight", "train"]
