"""`python -m pipelines.upsert (--example E --preset P | --all) [--strict] [--dry-run --out DIR] [--diff] [--force] [--schedule EXPR] [--format api|cloudformation] [--json]`.

Compiles each pipeline offline, validates it against the SageMaker API model, then (unless `--dry-run`)
runs the preflight checks, makes sure the build infrastructure, step bundle and build context exist, and
creates the pipeline, updates it, or leaves it unchanged when the definition is identical. A pipeline
whose deployed fingerprint (pipelines.define.fingerprint) matches is reported unchanged without loading the SDK;
`--force` compiles and compares anyway. `--diff` says what each update changes (with `--dry-run`: the
deployed pipelines are read, nothing is sent). `--dry-run` keeps a definition in DIR that was written from
the same inputs (`unchanged`: not compiled again) and compiles the rest in parallel. `--all` shows a count
and a bar on a terminal. The work is `pipelines.deploy`'s; this module parses flags and prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

from configs import BadInput, examples_root, resolve_target
from pipelines import catalog
from pipelines.cli.command import EXIT_FAILED, EXIT_OK, command, command_parser, exit_now, print_json
from pipelines.cli.count_bar import Bar
from pipelines.define.staging import Contexts, Staged, stage
from pipelines.deploy.cloudformation import export
from pipelines.deploy.deployer import Deployed, deploy, selected
from pipelines.deploy.dry_run import write_definitions
from pipelines.deploy.notifications import Notifier, NotifySpec, parse_notify
from pipelines.deploy.schedules import check_expression
from pipelines.deploy.target import deploy_target
from steps.common.aws import aws_session


@command
def main(argv: list[str] | None = None) -> int:
    """Compile, validate and upsert the selected pipelines (or write them with `--dry-run`)."""
    parser = command_parser(
        "upsert", "Create or update SageMaker pipelines for example presets.", all_examples=True
    )
    parser.add_argument("--dry-run", action="store_true", help="no network call: write DIR/<pipeline>.json")
    parser.add_argument("--out", type=Path, default=Path("definitions"), help="folder for --dry-run output")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse presets flagged by `pipelines.examples` (the job may not do what their docker run did)",
    )
    parser.add_argument("--skip-preflight", action="store_true", help="do not run the preflight checks first")
    parser.add_argument(
        "--force", action="store_true", help="compile and compare even when the fingerprint says unchanged"
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="say what each update changes; with --dry-run, read the deployed pipelines and send nothing",
    )
    parser.add_argument(
        "--schedule", metavar="EXPR", help="run on a schedule: 'rate(1 day)', 'cron(0 3 * * ? *)', or 'off'"
    )
    parser.add_argument(
        "--notify",
        metavar="TARGET",
        help="email:<address> or sns:<topic ARN>: told when an execution fails or stops; 'off' removes it",
    )
    parser.add_argument(
        "--notify-succeeded", action="store_true", help="with --notify: also when an execution succeeds"
    )
    parser.add_argument(
        "--format",
        choices=("api", "cloudformation"),
        default="api",
        help="api: upsert through the SageMaker API; cloudformation: write templates to --out",
    )
    args = parser.parse_args(argv)
    if args.schedule:
        check_expression(args.schedule)
    if args.format == "cloudformation" and args.schedule:
        raise BadInput("--schedule applies to --format api: deploy the template, then upsert --schedule")
    if args.notify and (args.dry_run or args.format == "cloudformation"):
        raise BadInput("--notify applies when upserting through the API: drop --dry-run (and --format)")
    if args.notify_succeeded and not args.notify:
        raise BadInput("--notify-succeeded goes with --notify email:<address> or sns:<topic ARN>")

    # Names first: a misspelt example is reported before region, role and bucket are asked for.
    chosen = selected(examples_root(args.examples_root), args.example, args.preset, args.all, args.strict)
    if args.dry_run and not args.diff:  # no network: the role as given, placeholders for what is missing
        target = resolve_target(
            region=args.region, role_arn=args.role_arn, bucket=args.bucket, allow_placeholders=True
        )
    else:
        target = deploy_target(region=args.region, role_arn=args.role_arn, bucket=args.bucket)
    # Checked before anything is sent: a mistyped address creates nothing.
    spec = parse_notify(args.notify, target.region, args.notify_succeeded) if args.notify else None
    skipped = list(chosen.skipped)
    staged, contexts = [], Contexts()
    for example, name, preset in chosen.pairs:
        try:
            staged.append(stage(example, name, preset, target, contexts=contexts))
        except BadInput as error:  # e.g. no Dockerfile: with --all, this example only is skipped
            if not args.all:
                raise
            skipped.append(catalog.Skipped(example.folder, str(error)))
    notes: list[str] = []
    if args.format == "cloudformation":
        outcomes, notes = export(staged, args.out, one_template=args.all, dry_run=args.dry_run)
    elif args.dry_run and not args.diff:
        outcomes = write_definitions(staged, args.out)
    else:
        bar = Bar(len(staged), enabled=None if args.all and not args.json else False)
        try:
            outcomes = deploy(
                staged,
                target.region,
                preflight=not args.skip_preflight,
                schedule=None if args.dry_run else args.schedule,
                force=args.force,
                diff=args.diff,
                send=not args.dry_run,
                progress=bar,
            )
        finally:
            bar.close()
    if spec is not None:
        outcomes = notified(outcomes, staged, spec, target.region)
    outcomes += [Deployed(entry.folder, "skipped", "", entry.reason) for entry in skipped]
    _print(outcomes, target.placeholders, args.json, notes)
    failed = any(outcome.action in ("failed", "skipped") for outcome in outcomes)
    return EXIT_FAILED if failed else EXIT_OK


def notified(outcomes: list[Deployed], staged: list[Staged], spec: NotifySpec, region: str) -> list[Deployed]:
    """Each deployed pipeline's notification put right; what was done joins its detail."""
    notifier = Notifier(aws_session(region))
    names = {item.name: (item.example.name, item.preset_name) for item in staged}
    done = []
    for outcome in outcomes:
        if outcome.arn and outcome.pipeline in names:
            said = notifier.ensure(outcome.pipeline, outcome.arn, spec, *names[outcome.pipeline])
            outcome = outcome._replace(detail="; ".join(part for part in (outcome.detail, said) if part))
        done.append(outcome)
    return done


def _print(outcomes: list[Deployed], placeholders: tuple[str, ...], as_json: bool, notes: list[str]) -> None:
    if as_json:
        print_json(
            {"placeholders": list(placeholders), "pipelines": [o.as_dict() for o in outcomes], "notes": notes}
        )
        return
    for outcome in outcomes:
        if outcome.action == "skipped":  # a problem to fix: where problems go
            print(f"{outcome.pipeline}: skipped: {outcome.detail}", file=sys.stderr)
            continue
        suffix = f": {outcome.detail}" if outcome.detail else ""
        digest = f" (sha256:{outcome.digest[:12]})" if outcome.digest else ""
        print(f"{outcome.pipeline}: {outcome.action}{digest}{suffix}")
        for change in outcome.changes:
            print(f"    {change}")
    for note in notes:
        print(note)
    if placeholders:
        print(
            f"note: placeholders stand in for {', '.join(placeholders)}: set AWS_DEFAULT_REGION, "
            "SAGEMAKER_ROLE_ARN and SAGEMAKER_OUTPUT_BUCKET (or the flags) for a definition you can upsert"
        )


if __name__ == "__main__":
    exit_now(main())
