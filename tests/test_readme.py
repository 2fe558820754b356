"""The README as a newcomer reads it: its commands run as written, its links lead somewhere, and its first
two commands are the install and the test command CI runs.

The moto section runs against a plain `moto_server`, with one substitution about the machine, not the
commands: port 5000 becomes a free port (other test runs may hold 5000). `.venv/bin/...` resolves to
this interpreter's virtual environment. The README's sample output is checked against a real run in
tests/pipelines/test_run_local.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.moto_server import free_port

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Try the AWS side without an account"
LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)")


def bash_blocks(text: str) -> list[list[str]]:
    """The non-blank lines of each ```bash block, in order."""
    return [
        [line for line in block.splitlines() if line.strip()]
        for block in re.findall(r"```bash\n(.*?)```", text, re.S)
    ]


def moto_section() -> list[str]:
    """The command lines of the README's moto section, as a user would paste them."""
    text = (ROOT / "README.md").read_text()
    return bash_blocks(text[text.index(SECTION) :])[0]


def anchor(heading: str) -> str:
    """GitHub's anchor for a markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_first_two_commands_install_from_the_lock_run_the_example_then_the_ci_tests() -> None:
    readme = (ROOT / "README.md").read_text()
    first, second = bash_blocks(readme)[:2]
    assert first == [
        "python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e '.[test]' && "
        ".venv/bin/python -m pipelines.run --example nanogpt --preset smoke --local"
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-m pip install --quiet -c constraints.txt -e '.[test]'" in ci
    # CI runs the README's test command (with its own venv's interpreter), so the two cannot drift.
    assert second == [".venv/bin/python -m pytest -q"]
    assert '"$venv/bin/python" -m pytest -q\n' in ci
    first_screen = "\n".join(readme.splitlines()[:12])
    assert "CVlization" in first_screen and "CVL" in first_screen and "seed" not in readme


def test_every_link_in_the_readme_and_docs_leads_to_a_file_and_heading_that_exist() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text()
        for target, fragment in LINK.findall(text):
            if target.startswith(("http://", "https://")):
                continue
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.name}: {target}")
            elif fragment and path.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", path.read_text(), re.M)
                if fragment not in {anchor(h) for h in headings}:
                    broken.append(f"{page.name}: {target}#{fragment}")
    assert not broken


@pytest.mark.slow
def test_the_readme_moto_section_runs_as_written(tmp_path: Path) -> None:
    lines = moto_section()
    assert lines[0].startswith(".venv/bin/moto_server ")
    assert all("python -m" not in line or ".venv/bin/python -m" in line for line in lines)
    port = free_port()
    script = "\n".join(
        ["set -e", *[line.replace(":5000", f":{port}").replace("-p 5000", f"-p {port}") for line in lines]]
    )
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SAGEMAKER_", "CVL_", "PYTHON"))
    }
    env |= {
        "PYTHONPATH": str(ROOT),  # this checkout, wherever the venv was installed from
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    # Files, not pipes: the README's `moto_server &` outlives the script and would hold a pipe open.
    with open(tmp_path / "out.txt", "w") as stdout, open(tmp_path / "err.txt", "w") as stderr:
        process = subprocess.Popen(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # the background server is stopped with the whole group below
        )
        try:
            process.wait(timeout=600)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    out, err = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    assert process.returncode == 0, out + err
    assert "export SAGEMAKER_ROLE_ARN=arn:aws:iam::123456789012:role/cvl-sagemaker-execution" in out
    assert "export SAGEMAKER_OUTPUT_BUCKET=cvl-pipelines-123456789012-us-east-1" in out
    assert "cvl-nanogpt-smoke: created" in out and "cvl-nanogpt-smoke: unchanged" in out
    assert (tmp_path / "definitions" / "cvl-nanogpt-train.json").is_file()
    assert "no executions yet" in out
    start = out.index("\n{")
    end = out.index("\n}\n", start) + 3
    document = json.loads(out[start:end])  # `upsert --json`'s stdout: one JSON document
    assert {p["action"] for p in document["pipelines"]} == {"unchanged"}
    lacking = "the emulator at http://127.0.0.1:{port} lacks {api}"
    assert (
        "quota             WARN    the training quota not checked: "
        + lacking.format(port=port, api="ListServiceQuotas")
        in out
    )
    assert "ready to run" in out
    steps = lacking.format(port=port, api="ListPipelineExecutionSteps")
    assert f"note: {steps} and runs no step: the pipeline is upserted and started, but nothing trains" in out
    assert f"started, not followed: {steps} and runs no step" in out
    listed = out.splitlines()[-1].split()
    assert listed[0] == "cvl-nanogpt-smoke" and listed[2] == "NotRun", out
    assert listed[5:] == ["-", f"http://127.0.0.1:{port}", "said", "Succeeded,", "but", "no", "step", "ran"]
