"""Run a pipeline on this machine: the SDK's local executor with a job client that runs jobs as processes.

Submodules import the SDK only inside functions, so importing this package stays cheap. A local run ends
in the same `RunOutcome` as a SageMaker one (`pipelines.operate.outcome`).
"""

from pipelines.local.client import LocalJobClient
from pipelines.local.execution import execute_local, local_target, run_local
from pipelines.local.jobs import AlgorithmError, Job, JobFailed
from pipelines.local.store import LocalS3

__all__ = [
    "AlgorithmError",
    "Job",
    "JobFailed",
    "LocalJobClient",
    "LocalS3",
    "execute_local",
    "local_target",
    "run_local",
]
