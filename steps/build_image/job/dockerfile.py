"""Render `Dockerfile.template` around an example's own Dockerfile (deterministic, stdlib only)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from string import Template

TEMPLATE_PATH = Path(__file__).resolve().parents[3] / "Dockerfile.template"
CODE_DIR = "/opt/cvl/code"
# The training entry point (the `steps/train/job` folder): its folder's name in the build context, next
# to the Dockerfile (and so in the code folder too), and where the image keeps it and runs it from.
ENTRY_NAME = "cvl_entry"
ENTRY_PATH = f"/opt/cvl/{ENTRY_NAME}"

# Parser directives (`# syntax=...`, `# escape=...`) count only before any other line, comment
# included, so they must stay above our header comment.
_DIRECTIVE = re.compile(r"^#\s*[A-Za-z]+\s*=\s*\S.*$")


def split_parser_directives(text: str) -> tuple[list[str], str]:
    """The leading parser-directive lines of a Dockerfile, and the rest of it."""
    lines = text.splitlines()
    count = 0
    while count < len(lines) and _DIRECTIVE.match(lines[count]):
        count += 1
    return lines[:count], "\n".join(lines[count:])


def render_dockerfile(example_dockerfile_text: str, template_text: str | None = None) -> str:
    """The build's Dockerfile: the example's Dockerfile, then the SageMaker training contract.

    Same input, same output (byte for byte). `template_text` defaults to the repository's
    `Dockerfile.template`.
    """
    template = Template(template_text if template_text is not None else TEMPLATE_PATH.read_text("utf-8"))
    text = example_dockerfile_text.replace("\r\n", "\n").removeprefix("\ufeff")
    directives, body = split_parser_directives(text)
    rendered = template.substitute(
        parser_directives="".join(line + "\n" for line in directives),
        example_sha256=hashlib.sha256(example_dockerfile_text.encode("utf-8")).hexdigest(),
        example_dockerfile=body.strip("\n"),
        code_dir=CODE_DIR,
        entry_name=ENTRY_NAME,
        entry_path=ENTRY_PATH,
    )
    return rendered.rstrip("\n") + "\n"
