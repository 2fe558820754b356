"""The Model Registry gate: a condition on Train's final metric, then the model registered or the run failed."""

__all__ = ["factory"]
