"""Deployed pipelines become executions: start, follow, status, stop, retry, the outcome and its artifacts."""

__all__ = ["executions", "follow", "outcome", "start"]
