"""`python -m pipelines.diagnose [EXECUTION | --example E --preset P | --local DIR] [--json]`: why a run failed.

The failure class (quota, capacity, image pull, no interpreter, out of memory, missing module, missing
secret, access denied, spot interruption without a checkpoint, time limit, preflight, image build, the
command's own exit), the lines that prove it, and the fix as a command. EXECUTION is an ARN or short id;
`--example/--preset` takes that pipeline's latest execution; `--local DIR` a local run's output folder.
Exit 0 when diagnosed (whatever the class), 2 for bad input. Loads no SageMaker SDK.
"""

from __future__ import annotations

from pathlib import Path

from configs import BadInput, examples_root
from configs.settings import required_region
from pipelines import catalog
from pipelines.catalog.tree import find_example
from pipelines.cli.command import (
    EXAMPLES_ROOT_HELP,
    EXIT_OK,
    Parser,
    add_json_flag,
    add_region_flags,
    add_run_flags,
    command,
    exit_now,
    print_json,
)
from pipelines.operate.diagnosis import Diagnosis, diagnose
from pipelines.operate.evidence import record_evidence, remote_evidence
from pipelines.operate.execution_api import ExecutionApi
from pipelines.operate.executions import named_or_latest
from pipelines.operate.outcome import LocalRunRecord
from steps.common.aws import aws_session


def _parser() -> Parser:
    parser = Parser(
        prog="python -m pipelines.diagnose", description="Say why a run failed and how to fix it."
    )
    add_run_flags(parser)
    parser.add_argument("--examples-root", help=EXAMPLES_ROOT_HELP)
    add_region_flags(parser)
    add_json_flag(parser)
    return parser


def _example_path(root: str | None, example: str) -> Path | None:
    """The example's folder, where its Dockerfile says what the image installs (None when not found)."""
    try:
        return find_example(catalog.read(examples_root(root)), example).path
    except BadInput:
        return None


def _local(folder: Path, root: str | None) -> Diagnosis:
    record = LocalRunRecord.read(folder)
    return diagnose(record_evidence(record, _example_path(root, record.example)))


@command
def main(argv: list[str] | None = None) -> int:
    """Diagnose one failed run and print the class, the proving lines and the fix."""
    args = _parser().parse_args(argv)
    if args.local is not None:
        found = _local(args.local, args.examples_root)
    else:
        session = aws_session(required_region(args.region))
        arn = named_or_latest(ExecutionApi.of(session), args.execution, args.example, args.preset)
        found = diagnose(remote_evidence(session, arn))
    if args.json:
        print_json(found.as_dict())
    else:
        print("\n".join(found.lines()))
    return EXIT_OK


if __name__ == "__main__":
    exit_now(main())
