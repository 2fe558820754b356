"""`run --local` with a preset that names a secret: the same DAG SageMaker runs, the entry point reading
the secret from Secrets Manager (the moto server) with the user's credentials; the definition holds only
the secret's id, and no line of the run's output holds its value."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import boto3
import pytest

from configs import Example, Preset
from pipelines.cli.run_printer import Progress
from pipelines.define.compile import compile_pipeline
from pipelines.local import execute_local
from steps.train.overrides import Overrides
from tests.conftest import REGION
from tests.harness.moto_server import MotoServer

pytestmark = pytest.mark.slow

TOKEN_VALUE = "wandb-" + "k3Y" * 10  # built at run time: the repository holds no credential-shaped string

TRAIN_PY = """\
import hashlib, os
token = os.environ["WANDB_API_KEY"]
print("the key is " + token, flush=True)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "key.sha256"), "w") as f:
    f.write(hashlib.sha256(token.encode()).hexdigest())
"""


@pytest.fixture
def example(tmp_path: Path) -> Example:
    folder = tmp_path / "examples" / "demo"
    folder.mkdir(parents=True)
    (folder / "example.yaml").write_text("name: demo\n")
    (folder / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /workspace\nCOPY . .\n")
    (folder / "train.py").write_text(TRAIN_PY)
    return Example(name="demo", path=folder)


PRESET = Preset(command=["python", "train.py"], secrets={"WANDB_API_KEY": "cvl/WANDB_API_KEY"})


def test_local_run_reads_the_secret_by_name_and_never_shows_it(
    aws: MotoServer, example: Example, tmp_path: Path
) -> None:
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="cvl/WANDB_API_KEY", SecretString=TOKEN_VALUE
    )
    printed = io.StringIO()
    outcome = execute_local(
        example,
        "train",
        PRESET,
        Overrides.parse([], []),
        output_dir=tmp_path / "out",
        checkpoint_dir=None,
        region=REGION,
        progress=Progress(printed),
    )
    assert outcome.status == "Succeeded", printed.getvalue()
    assert outcome.model_dir is not None
    digest = hashlib.sha256(TOKEN_VALUE.encode()).hexdigest()
    assert (outcome.model_dir / "key.sha256").read_text() == digest
    log = printed.getvalue()
    assert "secret WANDB_API_KEY <- cvl/WANDB_API_KEY" in log and "the key is ***" in log
    assert TOKEN_VALUE not in log
    leftovers = [
        p for p in (tmp_path / "out").rglob("*") if p.is_file() and TOKEN_VALUE in p.read_text("latin-1")
    ]
    assert leftovers == []


def test_the_definition_names_the_secret_and_holds_no_value(aws: MotoServer, example: Example) -> None:
    from configs import resolve_target

    target = resolve_target(region=REGION, role_arn=None, bucket=None, allow_placeholders=True)
    definition = json.loads(compile_pipeline(example, "train", PRESET, target).definition)
    train = next(step for step in definition["Steps"] if step["Type"] == "Training")
    preset = json.loads(train["Arguments"]["HyperParameters"]["cvl_preset"])
    assert preset["secrets"] == {"WANDB_API_KEY": "cvl/WANDB_API_KEY"}
    assert "WANDB_API_KEY" not in train["Arguments"].get("Environment", {})
    assert train["Arguments"]["Environment"]["AWS_DEFAULT_REGION"] == REGION
    assert not [p for p in definition["Parameters"] if "WANDB" in p["Name"]]
