"""The Python API of the seed runner (CVlization's `SageMakerRunner`), on top of `pipelines.run`.

    runner = SageMakerRunner(role_arn=..., region=...)
    runner.run(example="nanogpt", preset="train", args=["--seed=3"], instance_type="ml.g5.2xlarge",
               spot=True, max_wait_minutes=240)

`instance_type`, `output_path` and `args` become parameters of the execution (the pipeline is not
changed for them); `spot` and `max_wait_minutes` are fixed when a pipeline is upserted, so they change
the preset (and the pipeline is updated before the run). `local=True` runs on this machine instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from configs import Preset, examples_root, resolve_target
from pipelines import catalog
from pipelines.progress import Progress


class RunFailed(RuntimeError):
    """A run that did not succeed; `exit_code` is the training command's exit code when it failed."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RunResult(NamedTuple):
    """A successful run: the pipeline it ran and where the model dir was put."""

    pipeline: str
    model_dir: Path | None


def with_spot(preset: Preset, spot: bool | None, max_wait_minutes: int | None) -> Preset:
    """The preset with spot training switched as asked, re-validated (spot needs a max wait >= max run)."""
    if spot is None and max_wait_minutes is None:
        return preset
    update: dict[str, Any] = {}
    if spot is not None:
        update["spot"] = spot
    use_spot = preset.spot if spot is None else spot
    if use_spot:
        update["max_wait_minutes"] = max_wait_minutes or preset.max_wait_minutes or preset.max_run_minutes * 2
    else:
        update["max_wait_minutes"] = None
    # model_copy(update=...) skips validation; validating the merged data re-runs the preset's rules.
    return Preset.model_validate(preset.model_copy(update=update).model_dump())


class SageMakerRunner:
    """Run example presets as SageMaker pipeline executions (or locally), seed-runner style."""

    def __init__(
        self,
        role_arn: str | None = None,
        region: str | None = None,
        bucket: str | None = None,
        examples_dir: str | Path | None = None,
    ) -> None:
        self.role_arn, self.region, self.bucket = role_arn, region, bucket
        self.examples_dir = str(examples_dir) if examples_dir is not None else None

    def run(
        self,
        example: str,
        preset: str = "train",
        args: list[str] | None = None,
        instance_type: str | None = None,
        output_path: str | None = None,
        spot: bool | None = None,
        max_wait_minutes: int | None = None,
        *,
        local: bool = False,
        output_dir: str | Path | None = None,
    ) -> RunResult:
        """Run one preset to the end, streaming its progress; RunFailed when it does not succeed."""
        found, chosen = catalog.resolve(examples_root(self.examples_dir), example, preset)
        chosen = with_spot(chosen, spot, max_wait_minutes)
        overrides: dict[str, Any] = {}
        if instance_type:
            overrides["InstanceType"] = instance_type
        if output_path:
            overrides["OutputPath"] = output_path.rstrip("/")
        if args:
            import json

            overrides["ExtraArgs"] = json.dumps(list(args))
        destination = Path(output_dir) if output_dir is not None else None
        if local:
            return self._run_local(found, preset, chosen, overrides, destination)
        from pipelines.compile import pipeline_name
        from pipelines.remote import run_remote

        target = resolve_target(region=self.region, role_arn=self.role_arn, bucket=self.bucket)
        code, model = run_remote(
            found, preset, chosen, overrides, target=target, output_dir=destination, progress=Progress()
        )
        if code != 0:
            raise RunFailed(f"{example}/{preset} failed (exit code {code})", code)
        return RunResult(pipeline_name(found.name, preset), model)

    def _run_local(
        self,
        example: Any,
        preset_name: str,
        preset: Preset,
        overrides: dict[str, Any],
        destination: Path | None,
    ) -> RunResult:
        from pipelines.compile import pipeline_name
        from pipelines.run import local_run

        outcome = local_run(
            example,
            preset_name,
            preset,
            overrides,
            output_dir=destination,
            checkpoint_dir=None,
            region=self.region,
            progress=Progress(),
        )
        if outcome.status != "Succeeded":
            raise RunFailed(outcome.failure_reason or outcome.status, outcome.exit_code)
        return RunResult(pipeline_name(example.name, preset_name), outcome.model_dir)
