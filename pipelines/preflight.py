"""`python -m pipelines.preflight --example E --preset P [--json]`: the Preflight checks from this machine.

Exit 0 when every check passes or warns, 1 when one fails, 2 on bad input. Loads no SageMaker SDK.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from configs import BadInput, DeployTarget, examples_root, resolve_target
from pipelines.catalog import resolve
from pipelines.compile import CODEBUILD_PROJECT, pipeline_name, repository_name
from steps.common.aws import aws_session
from steps.preflight.checks import exit_code, run_preflight, worst
from steps.preflight.report import format_table
from steps.train.parameters import default_output_path


def preflight_facts(example: str, preset_name: str, target: DeployTarget) -> dict[str, Any]:
    """The run facts the checks read (the `run.json` keys they use), without packing the build context."""
    return {
        "example": example,
        "preset": preset_name,
        "pipeline": pipeline_name(example, preset_name),
        "region": target.region,
        "account": target.account,
        "bucket": target.bucket,
        "role_arn": target.role_arn,
        "repository": repository_name(example),
        "codebuild_project": CODEBUILD_PROJECT,
        "output_prefix": default_output_path(target.bucket, example, preset_name) + "/",
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.preflight",
        description="Check quota, bucket region, role and ECR/CodeBuild access before a run costs anything.",
    )
    parser.add_argument("--example", required=True, help="example name (from its example.yaml)")
    parser.add_argument("--preset", required=True, help="preset name, e.g. train")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--region", help="AWS region (default: AWS_DEFAULT_REGION)")
    parser.add_argument("--role-arn", help="SageMaker execution role (default: SAGEMAKER_ROLE_ARN)")
    parser.add_argument("--bucket", help="output bucket (default: SAGEMAKER_OUTPUT_BUCKET)")
    parser.add_argument(
        "--examples-root", help="folder of examples (default: CVL_EXAMPLES_ROOT, else bundled)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the preflight checks for one example preset and print them; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        example, preset = resolve(examples_root(args.examples_root), args.example, args.preset)
        target = resolve_target(region=args.region, role_arn=args.role_arn, bucket=args.bucket)
        facts = preflight_facts(example.name, args.preset, target)
    except BadInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        results = run_preflight(preset, facts, aws_session(target.region))
    except KeyboardInterrupt:
        return 130
    if args.json:
        document = {
            "pipeline": facts["pipeline"],
            "region": target.region,
            "status": worst(results),
            "checks": [result.as_dict() for result in results],
        }
        print(json.dumps(document, indent=2))
    else:
        where = f"{target.region}: role {target.role_arn}, bucket {target.bucket}"
        print(f"preflight for {facts['pipeline']} in {where}")
        print(format_table(results))
        failed = sum(result.status == "fail" for result in results)
        print(f"{failed} check(s) failed: fix them before running" if failed else "ready to run")
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
