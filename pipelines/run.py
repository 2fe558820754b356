"""`python -m pipelines.run --example E --preset P [--local] [--output-dir DIR] [--set NAME=VALUE ...]
[-- ARGS...]`.

Starts an execution of the example preset's pipeline and follows it: step states with durations, the
training log, the model dir in `DIR/model/` at the end (default `outputs/<pipeline>/<run-id>/`).
`--local` runs the same DAG on this machine, without Docker or an AWS account; otherwise the pipeline is
upserted and run on SageMaker. Exit codes: 0 ok; the training command's own exit code (else 1) when
the run fails; 2 bad input; 130 interrupted (the execution is stopped).
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from configs import BadInput, Example, Preset, examples_root, region_from
from pipelines import catalog
from pipelines.cli import EXIT_OK, command, command_parser, exit_now
from pipelines.progress import Progress
from steps.train.parameters import ParameterSpec, parameter_specs, parse_override

TAIL_LINES = 10


def split_extra_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """The command's own arguments and the `-- ARGS` passed through to the training command."""
    if "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1 :]
    return argv, []


def parameter_overrides(
    specs: list[ParameterSpec], assignments: list[str], extra_args: list[str]
) -> dict[str, Any]:
    """`--set NAME=VALUE` values typed by their parameters (and `-- ARGS` as `ExtraArgs`).

    An unknown name or a value of the wrong type is `BadInput` listing every parameter and its type.
    """
    by_name = {spec.name: spec for spec in specs}
    known = ", ".join(f"{spec.name} ({spec.type})" for spec in specs)
    overrides: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        if not equals:
            raise BadInput(f"--set {assignment!r} is not NAME=VALUE; parameters: {known}")
        if name not in by_name:
            raise BadInput(f"--set {name}: no such parameter; parameters: {known}")
        try:
            overrides[name] = parse_override(by_name[name], text)
        except ValueError:
            raise BadInput(
                f"--set {name}={text!r}: {name} is of type {by_name[name].type}; parameters: {known}"
            ) from None
        if text == "":  # SageMaker rejects empty parameter values
            raise BadInput(f"--set {name}= is empty; parameters: {known}")
        if name == "ExtraArgs" and not _is_json_string_list(text):
            raise BadInput(
                '--set ExtraArgs must be a JSON list of strings, e.g. ["--seed=1"] (or use -- ARGS)'
            )
    if extra_args:
        overrides["ExtraArgs"] = json.dumps(extra_args)
    return overrides


def _is_json_string_list(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def default_output_dir(pipeline: str, run_id: str) -> Path:
    """`outputs/<pipeline>/<run-id>` under the working directory."""
    return Path("outputs") / pipeline / run_id


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def local_run(
    example: Example,
    preset_name: str,
    preset: Preset,
    overrides: dict[str, Any],
    *,
    output_dir: Path | None,
    checkpoint_dir: Path | None,
    region: str | None,
    progress: Progress,
) -> Any:
    """Run the pipeline here with its outputs in `output_dir` (default `outputs/<pipeline>/<run-id>`) and
    its checkpoints in `checkpoint_dir` (default `<output_dir>/checkpoints`); returns the outcome."""
    from pipelines.compile import pipeline_name
    from pipelines.local import run_local

    name = pipeline_name(example.name, preset_name)
    output_dir = (output_dir or default_output_dir(name, time.strftime("%Y%m%d-%H%M%S"))).resolve()
    checkpoint_dir = (checkpoint_dir or output_dir / "checkpoints").resolve()
    progress.say(f"{name}: local run -> {output_dir}")
    if checkpoint_dir.is_dir() and any(checkpoint_dir.iterdir()):
        progress.say(f"checkpoint folder {checkpoint_dir} is not empty: training resumes from it")
    return run_local(
        example,
        preset_name,
        preset,
        parameters=overrides,
        output_dir=output_dir,
        checkpoint_dir=checkpoint_dir,
        region=region_from(region) or "us-east-1",
        progress=progress,
    )


def run_local_command(
    example: Example,
    preset_name: str,
    preset: Preset,
    overrides: dict[str, Any],
    args: Any,
    progress: Progress,
) -> int:
    """`--local`: execute here, report where the model is, and exit with the command's code on failure."""
    outcome = local_run(
        example,
        preset_name,
        preset,
        overrides,
        output_dir=args.output_dir,
        checkpoint_dir=args.checkpoint_dir,
        region=args.region,
        progress=progress,
    )
    if outcome.status == "Succeeded":
        progress.say(f"model: {outcome.model_dir}")
        progress.say(f"checkpoints: {outcome.checkpoint_dir}")
        return EXIT_OK
    failed = [step for step in outcome.steps if step.get("FailureReason")]
    reason = (
        f"{failed[0]['StepName']} failed: {failed[0]['FailureReason']}" if failed else outcome.failure_reason
    )
    print(f"error: {str(reason).splitlines()[0]}", file=sys.stderr)
    if outcome.tail:
        print("last lines of the training log:", file=sys.stderr)
        print("\n".join(f"    {line}" for line in outcome.tail[-TAIL_LINES:]), file=sys.stderr)
    return outcome.exit_code


@command
def main(argv: list[str] | None = None) -> int:
    """Run an example preset's pipeline (`--local`: on this machine) and follow it to the end."""
    own, extra_args = split_extra_args(list(sys.argv[1:] if argv is None else argv))
    parser = command_parser("run", "Run an example preset's pipeline and follow it.")
    parser.add_argument(
        "--local", action="store_true", help="run the DAG on this machine (no Docker, no AWS)"
    )
    parser.add_argument(
        "--output-dir", type=Path, help="where the model goes (default outputs/<pipeline>/<run-id>)"
    )
    parser.add_argument(
        "--checkpoint-dir", type=Path, help="--local: the checkpoint folder (default OUTPUT_DIR/checkpoints)"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a pipeline parameter"
    )
    parser.add_argument(
        "--skip-preflight", action="store_true", help="remote: no preflight checks before upsert"
    )
    args = parser.parse_args(own)
    if args.checkpoint_dir and not args.local:
        raise BadInput(
            "--checkpoint-dir applies to --local runs (on SageMaker, CheckpointConfig's S3 URI holds them)"
        )

    example, preset = catalog.resolve(examples_root(args.examples_root), args.example, args.preset)
    specs = parameter_specs(preset, "s3://cvl-local/output")
    overrides = parameter_overrides(specs, args.set, extra_args)
    # SIGTERM (kill, a CI timeout) stops the run as Ctrl-C does: jobs stopped, then exit 130.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        progress = Progress()
        if args.local:
            return run_local_command(example, args.preset, preset, overrides, args, progress)
        from pipelines.remote import run_remote_command

        return run_remote_command(example, args.preset, preset, overrides, args, progress)
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    exit_now(main())
