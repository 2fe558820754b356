"""Credentials refused where they would be published: values that look like a key or token.

A preset's environment and hyperparameters, a `run --set` value and the `-- ARGS` of a run all end up
in the pipeline definition or an execution's parameters, where Studio, `DescribePipeline` and
CloudTrail show them to anyone who can read the pipeline. Secrets go in AWS Secrets Manager instead and
are named in a preset's `secrets` (read by the training entry point when the job starts).

The message of a refusal names the field and the kind of credential, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from configs.errors import BadInput

# The one prefix of the project's own secrets: the execution role may read `secret:<prefix>*` and no
# other secret, and a preset may only name secrets under it.
SECRET_PREFIX = "cvl/"


def secret_id_for(variable: str) -> str:
    """The project's secret for environment variable `variable`, by convention `cvl/<VARIABLE>`: what a
    host secret a CVlization script forwards (`-e HF_TOKEN`) is read from, and what a refusal suggests."""
    return f"{SECRET_PREFIX}{variable}"


class CredentialPattern(NamedTuple):
    """One kind of credential: its name as the user reads it, the value's shape, and (for shapes that
    also fit harmless values) the field names it applies to."""

    kind: str
    value: re.Pattern[str]
    field: re.Pattern[str] | None = None


# Each shape is the vendor's documented token format. Matched anywhere in the value, so a key inside a
# URL or a longer argument (`--token=hf_...`) is found too.
CREDENTIAL_PATTERNS: tuple[CredentialPattern, ...] = (
    # AWS access key ids: AKIA (long-term) or ASIA (temporary) and other documented unique-id prefixes,
    # followed by 16 upper-case letters or digits.
    CredentialPattern(
        "AWS access key id", re.compile(r"(?<![A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
    ),
    # Hugging Face user access tokens: `hf_` and 34 letters (organisation API tokens: `api_org_`).
    CredentialPattern("Hugging Face token", re.compile(r"(?<![A-Za-z0-9])(hf_|api_org_)[A-Za-z0-9]{30,}")),
    # GitHub tokens: classic (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 36) and fine-grained (`github_pat_`).
    CredentialPattern(
        "GitHub token",
        re.compile(r"(?<![A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    ),
    # OpenAI-style API keys: `sk-` then 20 or more key characters (`sk-proj-...`, `sk-ant-...` alike).
    CredentialPattern("OpenAI-style API key", re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}")),
    # Private keys in PEM or OpenSSH form (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP's key block).
    CredentialPattern("private key", re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    # W&B API keys: 40 hex digits (`local-` first for a W&B server). A git commit id has the same shape,
    # so this one applies only to fields whose name says W&B.
    CredentialPattern(
        "W&B API key",
        re.compile(r"(?<![0-9a-fA-F])(local-)?[0-9a-f]{40}(?![0-9a-fA-F])"),
        field=re.compile(r"wandb|weights_?and_?biases", re.IGNORECASE),
    ),
)


def credential_kind(field: str, value: str) -> str | None:
    """The kind of credential `value` looks like (in a field named `field`), or None."""
    for pattern in CREDENTIAL_PATTERNS:
        if pattern.field is not None and not pattern.field.search(field):
            continue
        if pattern.value.search(value):
            return pattern.kind
    return None


def secret_variable(name: str) -> str:
    """The environment variable a secret for option or field `name` would be set as (`--wandb-key` ->
    `WANDB_KEY`; `Env_HF_TOKEN` -> `HF_TOKEN`)."""
    name = name.lstrip("-").removeprefix("Env_")
    return re.sub(r"[^A-Za-z0-9_]", "_", name).upper() or "TOKEN"


def refusal(field: str, kind: str, name: str) -> str:
    """What to say about a credential found in `field`: where it would show, and to use `secrets`."""
    variable = secret_variable(name)
    secret_id = secret_id_for(variable)
    return (
        f"{field} holds what looks like a {kind} (value not shown): it would be visible in the pipeline "
        f"definition and in every execution's parameters. Store it in AWS Secrets Manager as {secret_id} "
        f"and name it in the preset instead: secrets: {{{variable}: {secret_id}}}"
    )


def check_value(field: str, value: object, name: str | None = None) -> None:
    """`BadInput` naming `field` (never the value) when `value` looks like a credential; `name` is what
    the field calls the value (default: the field's last part), which is how the fix names the secret."""
    if isinstance(value, str):
        name = name or field.rsplit(".", 1)[-1]
        kind = credential_kind(name, value)
        if kind is not None:
            raise BadInput(refusal(field, kind, name))


def check_mapping(prefix: str, values: Mapping[str, object]) -> None:
    """`check_value` for each item of a mapping, as field `<prefix>.<name>`."""
    for name, value in values.items():
        check_value(f"{prefix}.{name}", value, name)


def check_arguments(prefix: str, arguments: Iterable[str]) -> None:
    """`check_value` for each command-line argument. An argument's name is its option's
    (`--wandb_key=...`, or `--wandb_key ...` for the argument after the option), else its position."""
    previous = ""
    for index, argument in enumerate(arguments):
        option, equals, _ = argument.partition("=")
        if argument.startswith("-") and equals:
            name = option
        elif previous.startswith("-") and "=" not in previous:
            name = previous
        else:
            name = ""
        check_value(f"{prefix} {name or f'argument {index + 1}'}", argument, name or "TOKEN")
        previous = argument
