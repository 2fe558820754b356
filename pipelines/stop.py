"""`python -m pipelines.stop EXECUTION [--region R] [--json]`: stop an execution, wherever it was started.

EXECUTION is the execution's ARN or its short id (looked up among the recent executions of the cvl-*
pipelines). Its running training job is stopped too. Exit 0 when stopped or already ended, 1 when AWS
refuses or cannot be reached, 2 when no such execution (or other bad input). Loads no SageMaker SDK.
"""

from __future__ import annotations

from configs.settings import required_region
from pipelines.cli.command import (
    EXIT_OK,
    Parser,
    add_json_flag,
    add_region_flags,
    command,
    exit_now,
    print_json,
)
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.executions import find_execution, stop_execution
from steps.common.aws import aws_session


@command
def main(argv: list[str] | None = None) -> int:
    """Stop one execution (and its training job); print what happened."""
    parser = Parser(prog="python -m pipelines.stop", description="Stop a pipeline execution.")
    parser.add_argument("execution", metavar="EXECUTION", help="the execution's ARN or short id")
    add_region_flags(parser)
    add_json_flag(parser)
    args = parser.parse_args(argv)
    client = ExecutionApi.of(aws_session(required_region(args.region)))
    arn = find_execution(client, args.execution)
    stopped = stop_execution(client, arn)
    if args.json:
        print_json({"execution": arn, "result": stopped.line()} | stopped._asdict())
    else:
        print(f"{arn}: {stopped.line()}")
    return EXIT_OK


if __name__ == "__main__":
    exit_now(main())
