"""The Preflight step: checks that catch quota, region, role and ECR problems before anything costs money."""

__all__ = ["base", "checks", "container", "factory", "iam", "quota", "report", "storage"]
