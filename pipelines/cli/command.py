"""What every command shares: the example and deploy-target flags, and how bad input is reported."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, Protocol, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from configs import BadInput
from pipelines.cli.aws_errors import explain

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
# Help texts say a default one way: "(default: X)", X an environment variable or a value.
EXAMPLES_ROOT_HELP = "folder of examples (default: CVL_EXAMPLES_ROOT, else the bundled examples/)"


def command_parser(
    prog: str, description: str, *, all_examples: bool = False, example_required: bool = True
) -> argparse.ArgumentParser:
    """A parser with `--example/--preset` (or `--all`), the deploy-target flags and `--json`."""
    parser = Parser(prog=f"python -m pipelines.{prog}", description=description)
    if all_examples:
        parser.add_argument(
            "--example", help="example name (from its example.yaml) or folder path under the examples root"
        )
        parser.add_argument("--preset", help="preset name, e.g. train")
        parser.add_argument("--all", action="store_true", help="every preset of every example")
    else:
        parser.add_argument(
            "--example",
            required=example_required,
            help="example name (from its example.yaml) or folder path under the examples root",
        )
        parser.add_argument("--preset", required=example_required, help="preset name, e.g. smoke or train")
    add_json_flag(parser)
    add_region_flags(parser)
    parser.add_argument("--role-arn", help="SageMaker execution role ARN (default: SAGEMAKER_ROLE_ARN)")
    parser.add_argument("--bucket", help="output bucket (default: SAGEMAKER_OUTPUT_BUCKET)")
    parser.add_argument("--examples-root", help=EXAMPLES_ROOT_HELP)
    return parser


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """`--json`: stdout is exactly one JSON document, whatever happens; everything else goes to stderr."""
    parser.add_argument(
        "--json", action="store_true", help="stdout is one JSON document (progress and tables go to stderr)"
    )


def add_region_flags(parser: argparse.ArgumentParser) -> None:
    """`--region` (default AWS_DEFAULT_REGION)."""
    parser.add_argument("--region", help="AWS region (default: AWS_DEFAULT_REGION)")


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """Which run a command looks at: EXECUTION (ARN or short id), `--example/--preset` (its latest), or
    `--local DIR` (a local run's output folder)."""
    parser.add_argument("execution", nargs="?", metavar="EXECUTION", help="the execution's ARN or short id")
    parser.add_argument("--example", help="with --preset: that pipeline's latest execution")
    parser.add_argument("--preset")
    parser.add_argument("--local", type=Path, metavar="DIR", help="a local run's output folder")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        """A usage problem is bad input: one line, exit 2 (and a JSON document under `--json`)."""
        raise BadInput(f"{message} (see {self.prog} --help)")


def wants_json(argv: list[str]) -> bool:
    """Whether the command's own arguments (those before a lone `--`) ask for `--json`."""
    own = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in own


class _Document:
    """Where a running command's JSON document goes (None: no `--json`) and whether it was written."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream, self.written = stream, False


_running: list[_Document] = []


def print_json(document: Any) -> None:
    """Write the command's one JSON document to stdout (the real one, even under `--json`)."""
    target = _running[-1] if _running else None
    stream = target.stream if target is not None and target.stream is not None else sys.stdout
    print(json.dumps(document, indent=2, default=str), file=stream, flush=True)
    if target is not None:
        target.written = True


class Main(Protocol):
    """A command's `main`: the arguments (None: `sys.argv[1:]`) to an exit code."""

    def __call__(self, argv: list[str] | None = None) -> int:
        """Run the command; its exit code."""


def command(main: Main) -> Main:
    """Wrap a command's `main`: `BadInput` becomes one line and exit 2, Ctrl-C exit 130, an AWS error
    one line saying what to do and exit 1. Anything else keeps its traceback: it is a bug.

    Under `--json` stdout is one JSON document whatever happens: while `main` runs, what it prints goes
    to stderr, except the document it writes with `print_json`; an error that ends it before that
    becomes `{"error": ..., "exit_code": ...}`.
    """

    @wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        stdout = sys.stdout
        document = _Document(stdout if wants_json(list(sys.argv[1:] if argv is None else argv)) else None)
        if document.stream is not None:
            sys.stdout = sys.stderr
        _running.append(document)
        try:
            return main(argv)
        except EXPECTED as error:
            return _failed(document, *ending(error))
        finally:
            _running.pop()
            sys.stdout = stdout

    return wrapper


# What a user can act on (or chose): these end a command with one line; anything else is a bug.
EXPECTED = (BadInput, KeyboardInterrupt, ClientError, BotoCoreError, ResponseParserError)


def ending(error: BaseException) -> tuple[str, int]:
    """The one line and the exit code for an `EXPECTED` error: 2 bad input, 130 interrupted, 1 AWS."""
    if isinstance(error, BadInput):
        return f"error: {error}", EXIT_BAD_INPUT
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", EXIT_INTERRUPTED
    return f"error: {explain(error)}", EXIT_FAILED


def exit_code_of(call: Callable[[], int]) -> int:
    """`call()`'s exit code, or the one for the `EXPECTED` error it raised (its line printed to stderr),
    as every command ends: for the Python API, which returns codes as the seed runner does."""
    try:
        return call()
    except EXPECTED as error:
        message, code = ending(error)
        print(message, file=sys.stderr)
        return code


def _failed(document: _Document, message: str, code: int) -> int:
    print(message, file=sys.stderr)
    if document.stream is not None and not document.written:
        print_json({"error": message.removeprefix("error: "), "exit_code": code})
    return code


def shown_path(path: Path) -> str:
    """A path as a user would type it: relative when under the working folder, else whole."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def exit_now(code: int) -> None:
    """Flush and exit without tearing down the interpreter: unloading the SDK's ~250 MB of modules
    takes a second or more and does nothing a finished command needs (its files are closed and its
    threads joined). Only for `if __name__ == "__main__"`."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
