"""The permissions table of docs/permissions.md, generated from `steps.common.permissions` (one row a grant)."""

from __future__ import annotations

from steps.common.permissions import (
    EXECUTION_ROLE_NAME,
    GRANTS,
    OPTIONAL,
    PRINCIPAL_TITLES,
    PROJECT_NAME,
    REGISTER,
    SECRETS,
)


def markdown_table() -> str:
    """The permissions table of docs/permissions.md, one row per grant."""
    rows = ["| principal | actions | resources | needed by | why |", "|---|---|---|---|---|"]
    for principal, grants in GRANTS.items():
        for grant in grants:
            actions = ", ".join(f"`{a}`" for a in grant.actions)
            resources = ", ".join(f"`{_readable(r)}`" for r in grant.resources)
            why = grant.why
            if grant.when == OPTIONAL:
                why += f" (optional: a run works without it; it gives {grant.enables})"
            elif grant.when == SECRETS:
                why += " (only for presets that name secrets)"
            elif grant.when == REGISTER:
                why += " (only for presets that register their model)"
            rows.append(
                f"| {PRINCIPAL_TITLES[principal]} | {actions} | {resources} | {', '.join(grant.used_by)} | {why} |"
            )
    return "\n".join(rows)


def _readable(template: str) -> str:
    readable = {
        "partition": "aws",
        "repository": "cvl-*",
        "role": EXECUTION_ROLE_NAME,
        "role_path": "/",
        "project": PROJECT_NAME,
    }
    for field, value in readable.items():
        template = template.replace("{" + field + "}", value)
    return template
