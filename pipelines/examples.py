"""`python -m pipelines.examples [--examples-root R] [--json]`: every example, its presets, where each came
from (config module, derived from a script, example.yaml), the flags of each (why the job may not do what
its `docker run` did; `upsert --strict` refuses them), and why any declared preset is not offered.

Exit 0, or 1 when an `example.yaml` cannot be read (it is listed with the reason; the rest still is).
Loads no SageMaker SDK and makes no network call.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from configs import BadInput, Example, examples_root
from pipelines import catalog
from pipelines.catalog.reasons import reason_kind
from pipelines.cli.command import (
    EXAMPLES_ROOT_HELP,
    EXIT_FAILED,
    EXIT_OK,
    Parser,
    add_json_flag,
    command,
    exit_now,
    print_json,
)


def describe(example: Example) -> dict[str, Any]:
    """One example as JSON-ready data: its presets (with source and instance) and those not offered."""
    entry: dict[str, Any] = {"name": example.name, "folder": example.folder}
    try:
        offers = catalog.offers_of(example)
    except BadInput as error:
        return entry | {"presets": [], "not_offered": [], "error": str(error)}
    entry["presets"] = [
        {
            "name": offer.name,
            "source": offer.source,
            "sagemaker_settings": offer.settings_applied,
            "instance_type": offer.preset.instance_type,
            "max_run_minutes": offer.preset.max_run_minutes,
            "command": offer.preset.command,
            "mounts": offer.preset.mounts,
            "environment": offer.preset.environment,
            "flags": [{"kind": flag.kind, "detail": flag.detail} for flag in offer.flags],
            "forwarded_secrets": list(offer.forwarded_secrets),
            "warnings": list(offer.warnings),
        }
        for offer in offers.offered.values()
    ]
    entry["not_offered"] = [
        {"name": item.name, "reason": item.reason, "kind": reason_kind(item.reason)}
        for item in offers.not_offered
    ]
    return entry


def summary(described: list[dict[str, Any]], unreadable: list[catalog.Unreadable]) -> dict[str, Any]:
    """Counts: examples read and unreadable, presets offered by source, not offered by kind of reason."""
    by_source = Counter(
        preset["source"].split(" from ")[0] for entry in described for preset in entry["presets"]
    )
    by_kind = Counter(item["kind"] for entry in described for item in entry["not_offered"])
    presets = [preset for entry in described for preset in entry["presets"]]
    flagged = Counter(
        kind for preset in presets for kind in dict.fromkeys(f["kind"] for f in preset["flags"])
    )
    return {
        "examples": len(described),
        "unreadable": len(unreadable) + sum(1 for entry in described if "error" in entry),
        "offered": sum(by_source.values()),
        "parity_clean": sum(1 for preset in presets if not preset["flags"]),
        "flagged": sum(1 for preset in presets if preset["flags"]),
        "flagged_by_reason": dict(flagged.most_common()),
        "offered_by_source": dict(by_source.most_common()),
        "not_offered": sum(by_kind.values()),
        "not_offered_by_reason": dict(by_kind.most_common()),
    }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _print_text(
    described: list[dict[str, Any]], unreadable: list[catalog.Unreadable], counts: dict[str, Any]
) -> None:
    print("EXAMPLE (FOLDER)")
    print(f"    {'PRESET':<18} {'INSTANCE':<18} FROM")
    for entry in described:
        print(f"{entry['name']} ({entry['folder']})")
        if "error" in entry:
            print(f"    error: {entry['error']}")
        for preset in entry["presets"]:
            extra = " + sagemaker: settings" if preset["sagemaker_settings"] else ""
            secrets = (
                f"; secrets from Secrets Manager: {', '.join(preset['forwarded_secrets'])}"
                if preset["forwarded_secrets"]
                else ""
            )
            print(
                f"    {preset['name']:<18} {preset['instance_type']:<18} {preset['source']}{extra}{secrets}"
            )
            for flag in preset["flags"]:
                print(f"        flagged: {flag['kind']}: {flag['detail']}")
        for item in entry["not_offered"]:
            print(f"    {item['name']:<18} not offered: {item['reason']}")
    for item in unreadable:
        print(f"skipped {item.folder}: {item.reason}")
    sources = ", ".join(f"{count} {source}" for source, count in counts["offered_by_source"].items())
    reasons = ", ".join(f"{count} {kind}" for kind, count in counts["not_offered_by_reason"].items())
    flagged = ", ".join(f"{count} {kind}" for kind, count in counts["flagged_by_reason"].items())
    print(
        f"{_count(counts['examples'], 'example')} read, {counts['unreadable']} unreadable; "
        f"{_count(counts['offered'], 'preset')} offered ({sources or 'none'}); "
        f"{counts['parity_clean']} parity-clean, {counts['flagged']} flagged ({flagged or 'none'}); "
        f"{counts['not_offered']} not offered ({reasons or 'none'})"
    )


@command
def main(argv: list[str] | None = None) -> int:
    """List every example under the examples root with its presets; returns the exit code."""
    parser = Parser(prog="python -m pipelines.examples", description="What each example offers, and why not.")
    parser.add_argument("--examples-root", help=EXAMPLES_ROOT_HELP)
    add_json_flag(parser)
    args = parser.parse_args(argv)
    tree = catalog.read(examples_root(args.examples_root))
    described = [describe(tree.examples[name]) for name in sorted(tree.examples)]
    counts = summary(described, tree.unreadable)
    if args.json:
        document = {
            "root": str(tree.root),
            "examples": described,
            "unreadable": [{"folder": item.folder, "reason": item.reason} for item in tree.unreadable],
            "counts": counts,
        }
        print_json(document)
    else:
        _print_text(described, tree.unreadable, counts)
    return EXIT_FAILED if counts["unreadable"] else EXIT_OK


if __name__ == "__main__":
    exit_now(main())
