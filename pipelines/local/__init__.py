"""Run a pipeline on this machine: the SDK's local executor with a job client that runs jobs as processes.

Submodules import the SDK only inside functions, so importing this package stays cheap.
"""

from pipelines.local.client import LocalJobClient
from pipelines.local.execution import local_target, run_local
from pipelines.local.jobs import AlgorithmError, Job, JobFailed
from pipelines.local.store import LocalS3

__all__ = [
    "AlgorithmError",
    "Job",
    "JobFailed",
    "LocalJobClient",
    "LocalS3",
    "local_target",
    "run_local",
]
