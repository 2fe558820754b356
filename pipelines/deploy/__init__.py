"""Definitions become deployed pipelines: upsert, the pipeline API, uploads, schedules, CloudFormation, account set-up."""

__all__ = [
    "cloudformation",
    "deployer",
    "pipeline_api",
    "policies",
    "preflight_answers",
    "schedules",
    "uploads",
]
