"""`python -m pipelines.status [--example E --preset P] [EXECUTION] [--json]`: executions, wherever started.

Without EXECUTION: the recent executions of every cvl-* pipeline (or of one pipeline), newest first,
with state, start, duration and failure reason. With EXECUTION (an ARN or short id): that execution
and its steps. Loads no SageMaker SDK.
"""

from __future__ import annotations

from configs import examples_root
from configs.settings import required_region
from pipelines import catalog
from pipelines.cli.command import (
    EXAMPLES_ROOT_HELP,
    Parser,
    add_json_flag,
    add_region_flags,
    command,
    exit_now,
    print_json,
)
from pipelines.cli.run_printer import format_duration
from pipelines.define.names import pipeline_name
from pipelines.operate.emulator import NOT_RUN
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.executions import (
    ExecutionSummary,
    find_execution,
    recent,
    registered_package,
    step_failure,
    summarize,
)
from steps.common.aws import aws_session


def _row(summary: ExecutionSummary) -> str:
    started = summary.started.strftime("%Y-%m-%d %H:%M:%S") if summary.started else "-"
    duration = format_duration(summary.duration_seconds) if summary.duration_seconds is not None else "-"
    line = (
        f"{summary.pipeline:<28} {summary.execution_id:<14} {summary.status:<11} {started:<20} {duration:<12}"
    )
    return (line + " " + summary.failure_reason).rstrip()


@command
def main(argv: list[str] | None = None) -> int:
    """List recent executions, or show one with its steps; exit 0, 1 when AWS refuses or cannot be reached,
    2 on bad input (a name, or an execution that is not there)."""
    parser = Parser(prog="python -m pipelines.status", description="Executions of the cvl-* pipelines.")
    parser.add_argument("execution", nargs="?", metavar="EXECUTION", help="an execution ARN or short id")
    parser.add_argument("--example", help="only this example's pipeline (with --preset)")
    parser.add_argument("--preset", help="only this preset's pipeline (with --example)")
    parser.add_argument("--max-results", type=int, default=20, help="how many executions (default: 20)")
    parser.add_argument("--examples-root", help=EXAMPLES_ROOT_HELP)
    add_region_flags(parser)
    add_json_flag(parser)
    args = parser.parse_args(argv)
    pipeline = None
    if args.example or args.preset:
        if not (args.example and args.preset):
            parser.error("--example and --preset go together")
        example, _ = catalog.resolve(examples_root(args.examples_root), args.example, args.preset)
        pipeline = pipeline_name(example.name, args.preset)
    client = ExecutionApi.of(aws_session(required_region(args.region)))
    if args.execution:
        arn = find_execution(client, args.execution, pipeline)
        summary = summarize(client, arn)
        steps = [] if summary.status == NOT_RUN else client.steps(arn)
        package = registered_package(steps)
        if args.json:
            print_json({"execution": summary.as_dict(), "steps": steps, "model_package": package or None})
            return 0
        print(f"{summary.arn}\n{_row(summary)}")
        for step in steps:
            reason = step_failure(step) if step.get("StepStatus") == "Failed" else ""
            line = f"    {step['StepName']:<12} {step.get('StepStatus', ''):<11}  {reason}"
            print(line.rstrip())
        if package:
            print(
                f"model package {package} (registered PendingManualApproval; Studio's Model Registry approves it)"
            )
        return 0
    summaries = recent(client, [pipeline] if pipeline else None, max_results=args.max_results)
    if args.json:
        print_json({"executions": [s.as_dict() for s in summaries]})
        return 0
    print(f"{'PIPELINE':<28} {'EXECUTION':<14} {'STATUS':<11} {'STARTED (UTC)':<20} {'DURATION':<12} FAILURE")
    for summary in summaries:
        print(_row(summary))
    if not summaries:
        print("no executions yet: start one with python -m pipelines.run --example E --preset P")
    return 0


if __name__ == "__main__":
    exit_now(main())
