"""What runs inside the Preflight processing job: `python3 -m steps.preflight.job.container --bundle DIR`.

Reads `DIR/preset.json` and `DIR/run.json`, runs the checks as the execution role, prints the table,
and on a failed check writes the fixes to the job's failure file (SageMaker shows it as FailureReason,
which stops the pipeline before Train) and exits 1. Imports only the stdlib, boto3 and `steps.*`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from steps.common.aws import CANNOT_CONNECT, aws_session
from steps.common.limits import FAILURE_REASON_LIMIT
from steps.common.messages import one_line
from steps.common.run_facts import PRESET_FILE, RUN_FACTS_FILE, RunFacts
from steps.preflight.job.checks import exit_code, fall_back, run_preflight
from steps.preflight.job.prices import estimate_preset
from steps.preflight.job.report import failure_reason, format_table

FAILURE_FILE = "/opt/ml/output/message"
# The property file Train reads its instance type from (the chosen one, or the fallback's).
RESULT_OUTPUT = "result"
RESULT_DIR = f"/opt/ml/processing/output/{RESULT_OUTPUT}"
RESULT_FILE = "preflight.json"
RESULT_DIR_ENV = "CVL_RESULT_DIR"
FAILURE_FILE_ENV = "CVL_FAILURE_FILE"


def write_failure(path: Path, message: str) -> None:
    """Write the FailureReason file (creating its folder), cut to SageMaker's limit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(message[:FAILURE_REASON_LIMIT])


def execution_preset(preset: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The preset as this execution runs it: the pipeline parameters' values over the preset's fields."""
    given = {
        "instance_type": args.instance_type,
        "instance_count": args.instance_count,
        "output_path": args.output_path,
    }
    return {**preset, **{field: value for field, value in given.items() if value is not None}}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The container's arguments: the bundle folder, the failure file, and the execution's values."""
    parser = argparse.ArgumentParser(prog="steps.preflight.job.container", description=__doc__)
    parser.add_argument(
        "--bundle", type=Path, required=True, help=f"folder holding {PRESET_FILE} and {RUN_FACTS_FILE}"
    )
    parser.add_argument(
        "--failure-file",
        type=Path,
        default=Path(os.environ.get(FAILURE_FILE_ENV, FAILURE_FILE)),
        help=f"where the FailureReason goes (default {FAILURE_FILE}, or ${FAILURE_FILE_ENV})",
    )
    parser.add_argument("--instance-type", help="the execution's InstanceType (default: the preset's)")
    parser.add_argument("--instance-count", type=int, help="the execution's InstanceCount")
    parser.add_argument("--output-path", help="the execution's OutputPath")
    parser.add_argument(
        "--fallback",
        type=str.lower,
        choices=("true", "false"),
        default="false",
        help="the execution's InstanceFallback: take the cheapest type with room when the chosen has none",
    )
    parser.add_argument(
        "--result-dir",
        type=Path,
        default=Path(os.environ.get(RESULT_DIR_ENV, RESULT_DIR)),
        help=f"where preflight.json goes (default {RESULT_DIR}, or ${RESULT_DIR_ENV})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the checks on the bundle's preset and run facts; 1 with a failure file when any check fails."""
    args = parse_arguments(argv)
    try:
        preset = execution_preset(json.loads((args.bundle / PRESET_FILE).read_text()), args)
        facts = RunFacts.read(args.bundle / RUN_FACTS_FILE)
        results = run_preflight(preset, facts, aws_session(facts.region), in_step=True)
    except (OSError, ValueError) as error:
        message = f"Preflight could not read its bundle {args.bundle}: {error}"
        print(message, file=sys.stderr)
        write_failure(args.failure_file, message)
        return 1
    except CANNOT_CONNECT as error:
        message = f"Preflight could not reach AWS: {one_line(str(error))}"
        print(message, file=sys.stderr)
        write_failure(args.failure_file, message)
        return 1
    except Exception as error:
        # A bug in preflight itself: say so in the FailureReason, keep the traceback in the job log.
        write_failure(args.failure_file, f"Preflight crashed: {type(error).__name__}: {error}")
        raise
    chosen = None
    if args.fallback == "true":
        results, chosen = fall_back(results, bool(preset.get("spot")))
    if chosen is not None:
        preset = {**preset, "instance_type": chosen.instance_type}
    print(format_table(results), flush=True)
    print(estimate_preset(preset).line(), flush=True)
    code = exit_code(results)
    if code:
        write_failure(args.failure_file, failure_reason(results))
        return code
    write_result(args.result_dir, str(preset["instance_type"]))
    return code


def write_result(result_dir: Path, instance_type: str) -> Path:
    """Write `preflight.json` (`instance_type`: what Train runs on) into the step's result output."""
    result_dir.mkdir(parents=True, exist_ok=True)
    path = result_dir / RESULT_FILE
    path.write_text(json.dumps({"instance_type": instance_type}))
    return path


if __name__ == "__main__":
    sys.exit(main())
