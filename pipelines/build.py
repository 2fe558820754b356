"""`python -m pipelines.build --example E --preset P [--json]`: build (or find) the example's image from here.

The same BuildImage logic the pipeline runs, with the user's credentials, which also create the
CodeBuild project, its role and the ECR repository when missing. No Docker needed, no SageMaker SDK
loaded. Exit 0 with the image, 1 when the build (or an AWS call) failed, 2 on bad input (nothing
created), 130 when interrupted (the build is stopped).
"""

from __future__ import annotations

import sys

from boto3.exceptions import S3UploadFailedError

from configs import examples_root
from pipelines.catalog.offers import resolve
from pipelines.cli.command import command, command_parser, exit_now, print_json
from pipelines.define.staging import stage
from pipelines.deploy.target import deploy_target
from steps.build_image.job.codebuild import BuildFailed, BuildRefused
from steps.build_image.job.context import ContextChanged
from steps.build_image.job.image_builder import BuildResult, build_image, ensure_infrastructure
from steps.common.aws import aws_session
from steps.common.limits import POLL_SECONDS
from steps.common.messages import one_line


def _print_result(result: BuildResult, as_json: bool) -> None:
    if as_json:
        print_json(result._asdict())
        return
    print(f"image   {result.image_uri}")
    print(f"cached  {'yes: nothing to build' if result.cached else 'no: built now'}")
    if result.build_id:
        print(f"build   {result.build_id}")
        print(f"logs    {result.log_link}")


def _refused(message: str, code: int, as_json: bool) -> int:
    print(message, file=sys.stderr)
    if as_json:
        print_json({"error": message.removeprefix("error: "), "exit_code": code})
    return code


@command
def main(argv: list[str] | None = None) -> int:
    """Build or find the image of one example and print it; returns the exit code."""
    parser = command_parser(
        "build", "Build the example's training image in CodeBuild (no local Docker), unless it exists."
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=POLL_SECONDS,
        help=f"how often to check the build (default: {POLL_SECONDS:g})",
    )
    args = parser.parse_args(argv)
    example, preset = resolve(examples_root(args.examples_root), args.example, args.preset)
    target = deploy_target(region=args.region, role_arn=args.role_arn, bucket=args.bucket)
    staged = stage(example, args.preset, preset, target)
    facts, context = staged.build, staged.context

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    session = aws_session(target.region)
    try:
        for created in ensure_infrastructure(session, facts):
            progress(f"created {created}")
        result = build_image(session, facts, context, poll_seconds=args.poll_seconds, on_event=progress)
    except BuildFailed as error:
        print(f"error: {error}", file=sys.stderr)
        if args.json:
            failure = {"error": str(error), "build_id": error.build_id, "phase": error.phase}
            print_json(failure | {"log_link": error.log_link, "exit_code": 1})
        return 1
    except BuildRefused as error:
        return _refused(f"error: {error}", 1, args.json)
    except ContextChanged as error:
        return _refused(f"error: {error}", 1, args.json)
    except S3UploadFailedError as error:
        return _refused(f"error: the build context upload failed: {one_line(str(error))}", 1, args.json)
    except KeyboardInterrupt:
        return _refused("interrupted: the build, if one was running, was stopped", 130, args.json)
    _print_result(result, args.json)
    return 0


if __name__ == "__main__":
    exit_now(main())
