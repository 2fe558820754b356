"""The Preflight step: `factory` builds the SDK step; `job/` is what runs inside it (and on the laptop)."""

__all__ = ["factory", "job"]
