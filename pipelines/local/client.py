"""The `sagemaker_client` of a local run: the job API the SDK's `LocalPipelineExecutor` calls, served by
running each job on this machine.

The executor (sagemaker.mlops.local.pipeline, SDK 3.27) calls, per step type:
`create_processing_job(name, **args)` then `describe_processing_job(name)` (ProcessingStep), and
`create_training_job(name, **args)` then `describe_training_job(name)` (TrainingStep). `create_*` runs
the job to completion and raises `JobFailed` when it fails, which the executor records as the step's
FailureReason. Any other call raises NotImplementedError naming it, rather than reaching AWS.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipelines.local.builtin import HANDLERS
from pipelines.local.jobs import Job, JobEvents, JobFailed, SilentEvents
from pipelines.local.processing import Handler, run_processing_job
from pipelines.local.store import LocalS3
from pipelines.local.training import run_training_job
from steps.common.limits import FAILURE_REASON_LIMIT
from steps.common.statuses import JobStatus
from steps.sdk.retries import PROCESSING_RETRY, TRAINING_RETRY, retry_class

_CREATE_NAME_KEYS = ("TrainingJobName", "ProcessingJobName")


class LocalJobClient:
    """Runs training and processing jobs as local processes in `<work>/jobs/<job>/opt/ml/...`.

    `output_dir` receives the training job's model dir (`model/`) and output data (`output/`);
    `checkpoint_dir` is the folder behind every job's CheckpointConfig.
    """

    def __init__(
        self,
        *,
        work_dir: Path,
        s3: LocalS3,
        output_dir: Path,
        checkpoint_dir: Path,
        base_env: Mapping[str, str],
        events: JobEvents | None = None,
        python: str = sys.executable,
        handlers: Mapping[str, Handler] = HANDLERS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.work_dir = work_dir
        self.s3 = s3
        self.output_dir = output_dir
        self.checkpoint_dir = checkpoint_dir
        self.base_env = dict(base_env)
        self.events: JobEvents = events or SilentEvents()
        self.python = python
        self.handlers = dict(handlers)
        self.sleep = sleep
        self.images: dict[str, Path] = {}
        self.jobs: dict[str, Job] = {}

    def register_image(self, image_uri: str, context_zip: Path) -> None:
        """Record the build context a local image stands for (called by the local BuildImage)."""
        self.images[image_uri] = context_zip

    def _start(self, kind: str, name: str, request: dict[str, Any]) -> Job:
        if name in self.jobs:
            raise JobFailed(f"a {kind.lower()} job named {name} already ran in this run")
        job = Job(name=name, kind=kind, request=request, root=self.work_dir / "jobs" / name)
        job.root.mkdir(parents=True)
        self.jobs[name] = job
        self.events.job_started(name)
        return job

    def _run(self, job: Job, run: Any) -> None:
        """Run `job`, retried as the step's retry policy says when it fails with a class worth retrying."""
        rule = TRAINING_RETRY if job.kind == "Training" else PROCESSING_RETRY
        for delay in [*rule.delays(), None]:
            try:
                self._run_once(job, run)
                return
            except JobFailed as error:
                kind = retry_class(rule, str(error))
                if delay is None or kind is None:
                    raise
                self.events.job_log(
                    job.name, f"cvl: {kind}: retrying in {delay:.0f} s (the step's retry policy)"
                )
                self.sleep(delay)

    def _run_once(self, job: Job, run: Any) -> None:
        try:
            run()
        except JobFailed as error:
            job.finish(JobStatus.FAILED, str(error)[:FAILURE_REASON_LIMIT], job.exit_code)
            raise
        except KeyboardInterrupt:
            job.finish(JobStatus.STOPPED, "stopped by the user (Ctrl-C)", job.exit_code)
            raise
        except Exception as error:
            job.finish(
                JobStatus.FAILED, f"{type(error).__name__}: {error}"[:FAILURE_REASON_LIMIT], job.exit_code
            )
            raise JobFailed(job.failure_reason) from error
        job.finish(JobStatus.COMPLETED, exit_code=job.exit_code)

    def create_processing_job(self, ProcessingJobName: str, **request: Any) -> dict[str, Any]:  # noqa: N803
        """Run a processing job to completion; JobFailed when it fails."""
        job = self._start("Processing", ProcessingJobName, request)
        self._run(job, lambda: run_processing_job(job, self, self.handlers))
        return {"ProcessingJobArn": job.describe()["ProcessingJobArn"]}

    def describe_processing_job(self, ProcessingJobName: str) -> dict[str, Any]:  # noqa: N803
        """DescribeProcessingJob of a job this client ran."""
        return self._job(ProcessingJobName, "Processing").describe()

    def create_training_job(self, TrainingJobName: str, **request: Any) -> dict[str, Any]:  # noqa: N803
        """Run a training job to completion; JobFailed (with the command's FailureReason) when it fails."""
        job = self._start("Training", TrainingJobName, request)
        self._run(job, lambda: run_training_job(job, self))
        return {"TrainingJobArn": job.describe()["TrainingJobArn"]}

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:  # noqa: N803
        """DescribeTrainingJob of a job this client ran; ModelArtifacts is the local model folder."""
        job = self._job(TrainingJobName, "Training")
        response = job.describe()
        response["SecondaryStatus"] = job.status
        if "model_dir" in job.extra:
            response["ModelArtifacts"] = {"S3ModelArtifacts": Path(job.extra["model_dir"]).as_uri()}
        # Keyed by name: the SDK's local executor resolves `FinalMetricDataList['<name>']` as a mapping
        # key (SageMaker's list is matched by MetricName; the gate's condition reads it either way).
        response["FinalMetricDataList"] = {
            name: {"MetricName": name, "Value": value, "Timestamp": job.ended or time.time()}
            for name, value in job.extra.get("final_metrics", {}).items()
        }
        return response

    def training_jobs(self) -> list[Job]:
        """The training jobs this client ran, in start order."""
        return [job for job in self.jobs.values() if job.kind == "Training"]

    def _job(self, name: str, kind: str) -> Job:
        job = self.jobs.get(name)
        if job is None or job.kind != kind:
            raise JobFailed(f"no local {kind.lower()} job named {name}")
        return job

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotImplementedError(
            f"a local run supports training and processing jobs only; the pipeline called {name}"
        )
