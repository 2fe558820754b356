"""`python -m pipelines.preflight --example E --preset P [--json]`: the Preflight checks from this machine.

Exit 0 when every check passes or warns, 1 when one fails, 2 on bad input. Loads no SageMaker SDK.
"""

from __future__ import annotations

from configs import examples_root
from pipelines.catalog.offers import resolve
from pipelines.cli.command import command, command_parser, exit_now, print_json
from pipelines.define.staging import base_facts
from pipelines.deploy.target import deploy_target
from steps.common.aws import aws_session, require_credentials
from steps.preflight.job.checks import exit_code, run_preflight, worst
from steps.preflight.job.prices import estimate_preset
from steps.preflight.job.report import format_table


@command
def main(argv: list[str] | None = None) -> int:
    """Run the preflight checks for one example preset and print them; returns the exit code."""
    parser = command_parser(
        "preflight", "Check quota, bucket region, role and ECR/CodeBuild access before a run costs anything."
    )
    args = parser.parse_args(argv)
    example, preset = resolve(examples_root(args.examples_root), args.example, args.preset)
    target = deploy_target(region=args.region, role_arn=args.role_arn, bucket=args.bucket)
    facts = base_facts(example.name, args.preset, target)
    session = aws_session(target.region)
    require_credentials(session)  # one line, as every command says it, not a failed row per check
    results = run_preflight(preset, facts, session)
    cost = estimate_preset(preset.model_dump())
    if args.json:
        document = {
            "pipeline": facts.pipeline,
            "region": target.region,
            "status": worst(results),
            "checks": [result.as_dict() for result in results],
            "cost": cost.as_dict(),
        }
        print_json(document)
    else:
        where = f"{target.region}: role {target.role_arn}, bucket {target.bucket}"
        print(f"preflight for {facts.pipeline} in {where}")
        print(format_table(results))
        print(cost.line())
        failed = sum(result.status == "fail" for result in results)
        print(f"{failed} check(s) failed: fix them before running" if failed else "ready to run")
    return exit_code(results)


if __name__ == "__main__":
    exit_now(main())
