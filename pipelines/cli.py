"""What every command shares: the example and deploy-target flags, and how bad input is reported."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps

from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

from configs import BadInput
from pipelines.aws_errors import explain

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def command_parser(prog: str, description: str, *, all_examples: bool = False) -> argparse.ArgumentParser:
    """A parser with `--example/--preset` (or `--all`), the deploy-target flags and `--json`."""
    parser = Parser(prog=f"python -m pipelines.{prog}", description=description)
    if all_examples:
        parser.add_argument("--example", help="example name (from its example.yaml)")
        parser.add_argument("--preset", help="preset name, e.g. train")
        parser.add_argument("--all", action="store_true", help="every preset of every example")
    else:
        parser.add_argument("--example", required=True, help="example name (from its example.yaml)")
        parser.add_argument("--preset", required=True, help="preset name, e.g. smoke or train")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--region", help="AWS region (default: AWS_DEFAULT_REGION)")
    parser.add_argument("--role-arn", help="SageMaker execution role ARN (default: SAGEMAKER_ROLE_ARN)")
    parser.add_argument("--bucket", help="output bucket (default: SAGEMAKER_OUTPUT_BUCKET)")
    parser.add_argument(
        "--examples-root", help="folder of examples (default: CVL_EXAMPLES_ROOT, else bundled)"
    )
    return parser


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print the usage problem as one line and exit 2."""
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def report_bad_input(error: BadInput) -> int:
    """Print a `BadInput` as the one line the user sees; return exit code 2."""
    print(f"error: {error}", file=sys.stderr)
    return EXIT_BAD_INPUT


def command(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Wrap a command's `main`: `BadInput` becomes one line and exit 2, Ctrl-C exit 130, an AWS error
    one line saying what to do and exit 1. Anything else keeps its traceback: it is a bug.
    """

    @wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except BadInput as error:
            return report_bad_input(error)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except (ClientError, NoCredentialsError, NoRegionError) as error:
            print(f"error: {explain(error)}", file=sys.stderr)
            return EXIT_FAILED

    return wrapper


def exit_now(code: int) -> None:
    """Flush and exit without tearing down the interpreter: unloading the SDK's ~250 MB of modules
    takes a second or more and does nothing a finished command needs (its files are closed and its
    threads joined). Only for `if __name__ == "__main__"`."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
