"""`python -m pipelines.run --example E --preset P [--local] [--output-dir DIR] [--set NAME=VALUE ...]
[--no-wait] [--max-cost USD] [-- ARGS...]`, and `python -m pipelines.run --retry EXECUTION`.

Starts an execution of the example preset's pipeline and follows it: step states with durations, the
training log, the billed seconds, the model dir in `DIR/model/` at the end (default
`outputs/<pipeline>/<run-id>/`). `--local` runs the same DAG on this machine, without Docker or an AWS
account; otherwise the pipeline is upserted and run on SageMaker. `--retry` resumes a failed execution
from its failed steps. Exit codes: 0 ok; the training command's own exit code (else 1) when the run
fails; 2 bad input (or a worst case above --max-cost); 130 interrupted (the execution is stopped). The
work is `pipelines.operate.start`'s; this module parses flags and prints.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from configs import BadInput, examples_root, region_from
from configs.settings import max_cost_from, required_region
from pipelines import catalog
from pipelines.cli.command import command, command_parser, exit_now, print_json, shown_path
from pipelines.cli.run_printer import Progress
from pipelines.deploy.target import deploy_target
from pipelines.local import execute_local
from pipelines.operate.diagnosis import Diagnosis, diagnose
from pipelines.operate.evidence import record_evidence, remote_evidence
from pipelines.operate.outcome import FINISHED_UNSUCCESSFULLY, LocalRunRecord, RunOutcome
from pipelines.operate.start import execute_remote, refuse_over_budget, retry_remote, summary
from steps.common.aws import aws_session
from steps.common.messages import one_line
from steps.train.overrides import Overrides
from steps.train.parameters import parameter_specs

USAGE = """%(prog)s --example E --preset P [--local] [--output-dir DIR] [--checkpoint-dir DIR]
           [--set NAME=VALUE ...] [--no-wait] [--skip-preflight] [--fallback] [--max-cost USD] [--region REGION]
           [--role-arn ROLE_ARN] [--bucket BUCKET] [--examples-root EXAMPLES_ROOT] [--json] [-- ARGS...]
       %(prog)s --retry EXECUTION [--no-wait] [--output-dir DIR] [--region REGION] [--json]"""
EPILOG = "-- ARGS: everything after a lone -- goes to the training command, e.g. -- --max_iters=100"


def split_extra_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """The command's own arguments and the `-- ARGS` passed through to the training command."""
    if "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1 :]
    return argv, []


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _parser() -> Any:
    parser = command_parser("run", "Run an example preset's pipeline and follow it.", example_required=False)
    parser.usage, parser.epilog = USAGE, EPILOG
    parser.add_argument(
        "--local", action="store_true", help="run the DAG on this machine (no Docker, no AWS)"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="where the model goes (default: outputs/<pipeline>/<run-id>)",
    )
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        metavar="DIR",
        help="--local: the checkpoint folder (default: <output-dir>/checkpoints)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a pipeline parameter"
    )
    parser.add_argument(
        "--skip-preflight", action="store_true", help="remote: no preflight checks before upsert"
    )
    parser.add_argument("--no-wait", action="store_true", help="remote: print the execution ARN and return")
    parser.add_argument(
        "--fallback",
        action="store_true",
        help="remote: when the instance type has no quota room, run on the cheapest one that fits and has",
    )
    parser.add_argument(
        "--retry", metavar="EXECUTION", help="re-run a failed execution from its failed steps"
    )
    parser.add_argument(
        "--max-cost",
        type=float,
        metavar="USD",
        help="refuse a run whose worst case is above this (default: CVL_MAX_COST, else no limit)",
    )
    return parser


@command
def main(argv: list[str] | None = None) -> int:
    """Run an example preset's pipeline (`--local`: on this machine) and follow it to the end."""
    own, extra_args = split_extra_args(list(sys.argv[1:] if argv is None else argv))
    args = _parser().parse_args(own)
    if args.checkpoint_dir and not args.local:
        raise BadInput(
            "--checkpoint-dir applies to --local runs (on SageMaker, CheckpointConfig's S3 URI holds them)"
        )
    progress = Progress()
    if args.retry:
        if args.example or args.preset or args.local or args.set or extra_args:
            raise BadInput("--retry EXECUTION re-runs that execution as it was: drop the other run flags")
        outcome = retry_remote(
            args.retry,
            region=required_region(args.region),
            output_dir=args.output_dir,
            progress=progress,
            wait=not args.no_wait,
        )
        return _report(outcome, args, progress)
    if not (args.example and args.preset):
        raise BadInput("say which pipeline: --example E --preset P (or --retry EXECUTION)")
    if args.local and args.no_wait:
        raise BadInput("--no-wait applies to SageMaker runs: a --local run ends with this command")
    if args.local and args.fallback:
        raise BadInput("--fallback applies to SageMaker runs: a --local run has no instance quota")

    example, preset = catalog.resolve(examples_root(args.examples_root), args.example, args.preset)
    overrides = Overrides.parse(parameter_specs(preset, "s3://cvl-local/output"), args.set, extra_args)
    if not args.local:
        refuse_over_budget(overrides.applied_to(preset), max_cost_from(args.max_cost))
    # SIGTERM (kill, a CI timeout) stops the run as Ctrl-C does: jobs stopped, then exit 130.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if args.local:
            outcome = execute_local(
                example,
                args.preset,
                preset,
                overrides,
                output_dir=args.output_dir,
                checkpoint_dir=args.checkpoint_dir,
                region=region_from(args.region) or "us-east-1",
                progress=progress,
            )
        else:
            target = deploy_target(region=args.region, role_arn=args.role_arn, bucket=args.bucket)
            outcome = execute_remote(
                example,
                args.preset,
                preset,
                overrides,
                target=target,
                output_dir=args.output_dir,
                progress=progress,
                preflight=not args.skip_preflight,
                wait=not args.no_wait,
                fallback=args.fallback,
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
    return _report(outcome, args, progress, example.path)


def _report(outcome: RunOutcome, args: Any, progress: Progress, example_path: Path | None = None) -> int:
    if outcome.billing is not None:
        progress.say(outcome.billing.line())
    if outcome.succeeded:
        if outcome.model_dir:
            progress.say(f"model: {shown_path(outcome.model_dir)}")
        if args.local and outcome.checkpoint_dir:
            progress.say(f"checkpoints: {shown_path(outcome.checkpoint_dir)}")
        if outcome.status == "Started" and outcome.failure:
            progress.say(f"started, not followed: {outcome.failure}")
        elif outcome.status == "Started":
            progress.say(f"started: follow it with python -m pipelines.status {outcome.execution}")
    if outcome.report is not None:
        progress.say(f"report: {shown_path(outcome.report)}")
    for line in summary(outcome):
        print(line, file=sys.stderr)
    if outcome.status in FINISHED_UNSUCCESSFULLY and not outcome.succeeded:
        try:
            lines = _diagnosis(outcome, args, example_path).lines()
        except (ClientError, BotoCoreError) as error:  # the run's own answer matters more than its diagnosis
            lines = [
                f"diagnosis: unavailable ({one_line(str(error))}): python -m pipelines.diagnose {outcome.execution}"
            ]
        for line in lines:
            print(line, file=sys.stderr)
    if args.json:
        print_json(outcome.as_dict())
    return outcome.exit_code


def _diagnosis(outcome: RunOutcome, args: Any, example_path: Path | None) -> Diagnosis:
    if args.local:
        record = LocalRunRecord.of(outcome, args.example, args.preset)
        return diagnose(record_evidence(record, example_path))
    return diagnose(remote_evidence(aws_session(required_region(args.region)), outcome.execution))


if __name__ == "__main__":
    exit_now(main())
