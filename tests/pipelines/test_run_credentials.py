"""`run --set` values and `-- ARGS` that look like credentials: exit 2, one line naming the field and saying
to use `secrets`, the value printed nowhere, nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import run
from tests.configs.test_credentials import FAKES

# String parameters of the bundled nanogpt `smoke` preset (and its Boolean `wandb_log` for W&B keys).
SET_FIELD = {kind: ("wandb_log" if kind == "W&B API key" else "device") for kind in FAKES}
ARG_OPTION = {kind: ("--wandb_api_key" if kind == "W&B API key" else "--token") for kind in FAKES}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run.main(["--example", "nanogpt", "--preset", "smoke", "--local", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_a_credential_in_a_set_value_is_refused(
    kind: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = SET_FIELD[kind]
    code, out, err = _run(capsys, "--output-dir", str(tmp_path), "--set", f"{name}={FAKES[kind]}")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: --set {name} holds what looks like a {kind}")
    assert "secrets: {" in err
    assert FAKES[kind].splitlines()[0] not in out + err
    assert not any(tmp_path.iterdir())  # nothing ran


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_a_credential_in_extra_args_is_refused(
    kind: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    option = ARG_OPTION[kind]
    code, out, err = _run(capsys, "--output-dir", str(tmp_path), "--", "--seed=1", f"{option}={FAKES[kind]}")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: -- ARGS {option} holds what looks like a {kind}")
    assert FAKES[kind].splitlines()[0] not in out + err
    assert not any(tmp_path.iterdir())


def test_a_credential_inside_set_extra_args_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    token = FAKES["GitHub token"]
    code, out, err = _run(capsys, "--set", f'ExtraArgs=["--push", "{token}"]')
    assert code == 2 and "--set ExtraArgs --push holds what looks like a GitHub token" in err
    assert token not in out + err
