"""`python -m pipelines.report [EXECUTION | --example E --preset P | --local DIR] [--out DIR] [--json]`.

Writes one self-contained HTML page about a run: its parameters, the steps on a timeline, cost (estimate
and billed), final metrics and a plot of each metric series. EXECUTION is an ARN or short id;
`--example/--preset` takes that pipeline's latest execution; `--local DIR` a local run's output folder.
The page goes to `--out` (default: the run's output folder, `outputs/<pipeline>/<run-id>` for a remote
run). Prints its path. Exit 0 written, 1 when AWS refuses or cannot be reached, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path

from configs.settings import required_region
from pipelines.cli.command import (
    EXIT_OK,
    Parser,
    add_json_flag,
    add_region_flags,
    add_run_flags,
    command,
    exit_now,
    print_json,
)
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.executions import named_or_latest
from pipelines.operate.outcome import LocalRunRecord, default_output_dir
from pipelines.operate.report_page import write_report
from pipelines.operate.run_report import RunReport, record_report, remote_report
from steps.common.aws import aws_session


def _parser() -> Parser:
    parser = Parser(prog="python -m pipelines.report", description="Write a run's report as one HTML page.")
    add_run_flags(parser)
    parser.add_argument("--out", type=Path, metavar="DIR", help="where report.html goes (default: the run's)")
    add_region_flags(parser)
    add_json_flag(parser)
    return parser


@command
def main(argv: list[str] | None = None) -> int:
    """Write the report and print where it is."""
    args = _parser().parse_args(argv)
    report: RunReport
    if args.local is not None:
        record = LocalRunRecord.read(args.local)
        report, folder = record_report(record, args.local.resolve().name), args.local
    else:
        region = required_region(args.region)
        session = aws_session(region)
        arn = named_or_latest(ExecutionApi.of(session), args.execution, args.example, args.preset)
        report = remote_report(session, arn)
        folder = default_output_dir(report.pipeline, arn.rsplit("/", 1)[-1])
    path = write_report(report, (args.out or folder).resolve())
    if args.json:
        print_json({"report": str(path), "status": report.status, "final_metrics": report.final_metrics})
    else:
        print(f"report: {path}")
    return EXIT_OK


if __name__ == "__main__":
    exit_now(main())
