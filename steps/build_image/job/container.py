"""The BuildImage job: `python3 -m steps.build_image.job.container --bundle D --context-uri U --context-digest H`.

Runs in SageMaker's sklearn processing image (Python 3.9 and boto3, nothing else of ours): imports only
the stdlib, boto3 and `steps.*`. It creates nothing but builds (the job's role may not create the
CodeBuild project, an IAM role or the ECR repository): it starts a build on the existing project and waits. Writes `build.json`
(`image_uri`, `cached`, `build_id`) to the result dir; on failure writes the reason to the message
file, which SageMaker shows as the step's FailureReason, and exits 1.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import traceback
from pathlib import Path

from botocore.exceptions import ClientError

from steps.build_image.job.build_facts import BuildFacts
from steps.build_image.job.codebuild import BuildFailed, BuildRefused, ProjectMissing
from steps.build_image.job.ecr import RepositoryMissing
from steps.build_image.job.image_builder import BuildResult, ContextMissing, ContextRef, build_image
from steps.common.aws import aws_session
from steps.common.limits import FAILURE_REASON_LIMIT, POLL_SECONDS
from steps.common.run_facts import RUN_FACTS_FILE, RunFacts, RunFactsError

RESULT_DIR = "/opt/ml/processing/output/result"
RESULT_FILE = "build.json"
MESSAGE_FILE = "/opt/ml/output/message"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class JobInputError(ValueError):
    """The job's arguments or bundle are not what the pipeline definition promised."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The job's arguments (the result dir, message file and poll interval default to SageMaker's)."""
    parser = argparse.ArgumentParser(prog="steps.build_image.job.container", description=__doc__)
    parser.add_argument(
        "--bundle", required=True, type=Path, help=f"the step bundle dir (holds {RUN_FACTS_FILE})"
    )
    parser.add_argument("--context-uri", required=True, help="S3 URI of the build context zip")
    parser.add_argument("--context-digest", required=True, help="sha256 hex of the build context zip")
    parser.add_argument("--result-dir", type=Path, default=Path(RESULT_DIR))
    parser.add_argument("--message-file", type=Path, default=Path(MESSAGE_FILE))
    parser.add_argument("--poll-seconds", type=float, default=POLL_SECONDS)
    return parser.parse_args(argv)


def load_facts(bundle: Path) -> BuildFacts:
    """The build facts from the bundle's run facts; JobInputError when they are missing or malformed."""
    try:
        return BuildFacts.of(RunFacts.read(bundle / RUN_FACTS_FILE))
    except RunFactsError as error:
        raise JobInputError(str(error)) from None


def run_build(args: argparse.Namespace) -> BuildResult:
    """Check the inputs, then build (or find) the image."""
    digest = args.context_digest.lower()
    if not _DIGEST.match(digest):
        raise JobInputError(f"--context-digest {args.context_digest!r} is not a sha256 hex digest")
    if not args.context_uri.startswith("s3://"):
        raise JobInputError(f"--context-uri {args.context_uri!r} is not an S3 URI")
    facts = load_facts(args.bundle)
    session = aws_session(facts.region)
    return build_image(
        session,
        facts,
        ContextRef(args.context_uri, digest),
        poll_seconds=args.poll_seconds,
        on_event=lambda message: print(message, flush=True),
    )


def write_result(result_dir: Path, result: BuildResult) -> Path:
    """Write the property file Train reads (`image_uri`, `cached`, `build_id`)."""
    result_dir.mkdir(parents=True, exist_ok=True)
    path = result_dir / RESULT_FILE
    payload = {"image_uri": result.image_uri, "cached": result.cached, "build_id": result.build_id}
    path.write_text(json.dumps(payload, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _fail(message_file: Path, message: str) -> int:
    print(f"BuildImage failed: {message}", file=sys.stderr, flush=True)
    try:
        message_file.parent.mkdir(parents=True, exist_ok=True)
        message_file.write_text(message[:FAILURE_REASON_LIMIT], encoding="utf-8")
    except OSError as error:
        print(f"could not write {message_file}: {error}", file=sys.stderr)
    return 1


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # SageMaker stops a job with SIGTERM: leave through an exception so the running build is stopped too.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the BuildImage job; 0 with `build.json` written, 1 with the reason in the message file."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        result = run_build(args)
    except (
        BuildFailed,
        BuildRefused,
        ProjectMissing,
        RepositoryMissing,
        ContextMissing,
        JobInputError,
    ) as error:
        return _fail(args.message_file, str(error))
    except ClientError as error:  # e.g. the execution role may not read ECR: AWS's message names the action
        return _fail(args.message_file, f"AWS refused a call: {error}")
    except Exception as error:  # an unexpected error still needs a FailureReason; keep the traceback
        traceback.print_exc()
        return _fail(args.message_file, f"unexpected {type(error).__name__}: {error}")
    path = write_result(args.result_dir, result)
    print(
        json.dumps({"result": str(path), "image_uri": result.image_uri, "cached": result.cached}), flush=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
