"""Copy-paste fidelity: the README's moto section, run as written against a plain `moto_server`.

Two substitutions, both about the machine, not the commands: the `pip install` line is skipped (this
interpreter has the test extra), and port 5000 becomes a free port (other test runs may hold 5000).
`.venv/bin/...` resolves to this interpreter's virtual environment.
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
SECTION = "## Try `upsert` against a local moto server"


def moto_section() -> list[str]:
    """The command lines of the README's moto section, as a user would paste them."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text[text.index(SECTION) :], re.S)
    assert block is not None, "the moto section has no bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_moto_section_runs_as_written(tmp_path: Path) -> None:
    lines = moto_section()
    assert lines[0].startswith(".venv/bin/pip install ")
    assert all("python -m" not in line or ".venv/bin/python -m" in line for line in lines)
    port = free_port()
    script = "\n".join(
        [
            "set -e",
            *[line.replace(":5000", f":{port}").replace("-p 5000", f"-p {port}") for line in lines[1:]],
        ]
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
    document = json.loads(out[out.rindex("\n{") :])  # the last command's stdout: one JSON document
    assert {p["action"] for p in document["pipelines"]} == {"unchanged"}
