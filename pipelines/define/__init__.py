"""Presets become pipeline definitions: names, staging, the fingerprint, compile, validate, variants, diff."""

__all__ = ["compile", "diff", "fingerprint", "validate", "variants"]
