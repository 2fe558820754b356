"""The Python API of the seed runner (CVlization's `SageMakerRunner`), on top of `pipelines.run`.

    runner = SageMakerRunner(role_arn=..., region=...)
    runner.run(example="nanogpt", preset="train", args=["--seed=3"], instance_type="ml.g5.2xlarge",
               spot=True, max_wait_minutes=240)

`instance_type`, `output_path` and `args` become parameters of the execution (the pipeline is not
changed for them); `spot` and `max_wait_minutes` are fixed when a pipeline is upserted, so they change
the preset (and the pipeline is updated before the run). `local=True` runs on this machine instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from configs import Preset, examples_root, region_from, resolve_target
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
        from pipelines.execute import execute_local, execute_remote
        from steps.train.overrides import Overrides
        from steps.train.parameters import parameter_specs

        found, chosen = catalog.resolve(examples_root(self.examples_dir), example, preset)
        chosen = with_spot(chosen, spot, max_wait_minutes)
        values = {"InstanceType": instance_type, "OutputPath": output_path, "ExtraArgs": None}
        if args:
            values["ExtraArgs"] = json.dumps(list(args))
        overrides = Overrides.from_values(parameter_specs(chosen, "s3://cvl-local/output"), values)
        destination = Path(output_dir) if output_dir is not None else None
        progress = Progress()
        if local:
            outcome = execute_local(
                found,
                preset,
                chosen,
                overrides,
                output_dir=destination,
                checkpoint_dir=None,
                region=region_from(self.region) or "us-east-1",
                progress=progress,
            )
        else:
            target = resolve_target(region=self.region, role_arn=self.role_arn, bucket=self.bucket)
            outcome = execute_remote(
                found, preset, chosen, overrides, target=target, output_dir=destination, progress=progress
            )
        if not outcome.succeeded:
            raise RunFailed(f"{example}/{preset} failed: {outcome.failure}", outcome.exit_code)
        return RunResult(outcome.pipeline, outcome.model_dir)
