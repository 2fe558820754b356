"""A `--local` run of a real-shaped example whose module this Python lacks names the package and the
Dockerfile line that installs it in the image."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.operate.missing_module import explain_missing_module
from tests.harness.local_run import run_locally

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "tests" / "fixtures" / "cvl_repo" / "examples"
ARM = EXAMPLES / "physical" / "arm_policy"


@pytest.mark.parametrize(
    ("module", "where"),
    [
        (
            "cv2",
            "(package opencv-python) is not installed in this Python; the image installs it at "
            "Dockerfile line 4: opencv-python-headless==4.10.0.84",
        ),
        (
            "timm.layers",
            "(package timm) is not installed in this Python; the image installs it at "
            "requirements.txt line 3: timm>=1.0 (installed by Dockerfile line 7)",
        ),
        ("einops", "requirements.txt line 1: einops==0.8.0 (installed by Dockerfile line 7)"),
        (
            "flash_attn",
            "(package flash_attn) is not installed in this Python, and the example's Dockerfile "
            "does not install it by that name",
        ),
    ],
)
def test_the_hint_names_the_package_and_where_the_image_installs_it(module, where):
    log = ["Traceback (most recent call last):", f"ModuleNotFoundError: No module named '{module}'"]
    hint = explain_missing_module(log, ARM)
    assert hint is not None and where in hint


def test_no_hint_without_a_missing_module_and_an_own_module_is_not_a_package():
    assert explain_missing_module(["ValueError: bad"], ARM) is None
    hint = explain_missing_module(["ModuleNotFoundError: No module named 'predict'"], ARM)
    assert (
        hint == "module 'predict' is the example's own, but not importable from the command's working folder"
    )


@pytest.mark.slow
def test_a_local_run_missing_a_module_says_which_dockerfile_line_installs_it(tmp_path):
    finished = run_locally(
        *("--example", "arm-policy", "--preset", "predict", "--examples-root", str(EXAMPLES)),
        *("--output-dir", str(tmp_path)),
    )
    assert finished.returncode == 1, finished.stdout[-2000:] + finished.stderr[-2000:]
    assert "diagnosis: missing module (in Train), exit code 1" in finished.stderr
    assert (
        "fix: module 'cv2' (package opencv-python) is not installed in this Python; the image installs it at "
        "Dockerfile line 4: opencv-python-headless==4.10.0.84: install it here too, or run on SageMaker"
    ) in finished.stderr
