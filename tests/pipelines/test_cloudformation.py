"""`upsert --format cloudformation`: templates that pass cfn-lint, definitions inline or in S3 by size, the
role and bucket as parameters, and the objects they reference uploaded first (or written, with --dry-run)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint_file

from pipelines import upsert
from pipelines.deploy import cloudformation
from steps.build_image.job.context import archive_digest
from tests.conftest import ACCOUNT, BUCKET, REGION, ROLE_ARN
from tests.harness.network import no_network
from tests.pipelines.test_upsert import account  # noqa: F401  (the fixture: preflight passes)

SMOKE = ["--example", "nanogpt", "--preset", "smoke"]


def _lint(path: Path) -> list[str]:
    return [f"{match.rule.id} {match.message}" for match in lint_file(path) if match.rule.id.startswith("E")]


def _template(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _definition(properties: dict[str, Any], parameters: dict[str, Any]) -> str:
    """What CloudFormation hands SageMaker for an inline definition: Fn::Sub with the parameters' values."""
    text = properties["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    for name, value in parameters.items():
        text = text.replace(f"${{{name}}}", value)
    return text.replace("${!", "${")


@pytest.mark.slow
def test_dry_run_writes_a_linted_template_with_the_definition_inline(tmp_path: Path, capsys) -> None:
    with no_network():
        code = upsert.main(
            [
                *SMOKE,
                "--format",
                "cloudformation",
                "--dry-run",
                "--out",
                str(tmp_path),
                "--role-arn",
                ROLE_ARN,
            ]
            + ["--bucket", BUCKET, "--region", REGION]
        )
    out = capsys.readouterr().out
    assert code == 0, out
    path = tmp_path / "cvl-nanogpt-smoke.template.json"
    assert _lint(path) == []
    template = _template(path)
    assert {name: p["Default"] for name, p in template["Parameters"].items()} == {
        "RoleArn": ROLE_ARN,
        "Bucket": BUCKET,
    }
    resource = template["Resources"]["CvlNanogptSmoke"]
    assert resource["Type"] == "AWS::SageMaker::Pipeline"
    properties = resource["Properties"]
    assert properties["RoleArn"] == {"Ref": "RoleArn"}
    assert {t["Key"]: t["Value"] for t in properties["Tags"]} == {
        "cvl:example": "nanogpt",
        "cvl:preset": "smoke",
        "managed-by": "cvl-pipelines",
    }
    body = properties["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    assert BUCKET not in body and ROLE_ARN not in body  # both come from the parameters

    # With the defaults, CloudFormation hands SageMaker exactly the definition `upsert` would send.
    with no_network():
        api = ["--dry-run", "--out", str(tmp_path / "api"), "--region", REGION, "--bucket", BUCKET]
        assert upsert.main([*SMOKE, *api, "--role-arn", ROLE_ARN]) == 0
    expected = json.loads((tmp_path / "api" / "cvl-nanogpt-smoke.json").read_text())
    defaults = {name: p["Default"] for name, p in template["Parameters"].items()}
    assert json.loads(_definition(properties, defaults)) == expected

    # Everything the definition references is written under s3/, named by content, with the command.
    assert f"upload first: aws s3 cp --recursive {tmp_path / 's3'} s3://{BUCKET}/" in out
    assert (
        "deploy: aws cloudformation deploy --template-file" in out and "--stack-name cvl-nanogpt-smoke" in out
    )
    for uri in _s3_uris(expected):
        key = uri.removeprefix(f"s3://{BUCKET}/")
        if key.startswith(("cvl-pipelines/bundles/", "cvl-pipelines/contexts/")):
            assert (tmp_path / "s3" / key).exists() or (tmp_path / "s3" / key / "manifest.json").exists(), key
    contexts = list((tmp_path / "s3" / "cvl-pipelines" / "contexts" / "cvl-nanogpt").glob("*.zip"))
    assert [c.stem for c in contexts] == [archive_digest(contexts[0].read_bytes())]  # named by content


def _s3_uris(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node] if node.startswith("s3://") else []
    if isinstance(node, dict):
        return [uri for value in node.values() for uri in _s3_uris(value)]
    if isinstance(node, list):
        return [uri for value in node for uri in _s3_uris(value)]
    return []


@pytest.mark.slow
def test_a_template_too_big_for_a_request_keeps_definitions_in_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(cloudformation, "TEMPLATE_BODY_LIMIT", 2_000)
    with no_network():
        code = upsert.main(["--all", "--format", "cloudformation", "--dry-run", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr()
    path = tmp_path / "cvl-pipelines.template.json"
    assert _lint(path) == []
    resources = _template(path)["Resources"]
    assert sorted(resources) == ["CvlNanogptSmoke", "CvlNanogptTrain"]
    for resource in resources.values():
        location = resource["Properties"]["PipelineDefinition"]["PipelineDefinitionS3Location"]
        assert location["Bucket"] == {"Ref": "Bucket"}
        stored = (tmp_path / "s3" / location["Key"]).read_bytes()
        assert location["ETag"] == hashlib.md5(stored).hexdigest()
        assert json.loads(stored)["Steps"][-1]["Name"] == "Train"
    assert "--s3-bucket" in capsys.readouterr().out  # the template itself is above the request limit too


@pytest.mark.slow
def test_without_dry_run_the_referenced_objects_are_uploaded_first(account, tmp_path: Path, capsys) -> None:  # noqa: F811
    assert upsert.main([*SMOKE, "--format", "cloudformation", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    template = _template(tmp_path / "cvl-nanogpt-smoke.template.json")
    properties = template["Resources"]["CvlNanogptSmoke"]["Properties"]
    definition = json.loads(_definition(properties, {"RoleArn": ROLE_ARN, "Bucket": BUCKET}))
    s3 = boto3.client("s3", region_name=REGION)
    for uri in _s3_uris(definition):
        key = uri.removeprefix(f"s3://{BUCKET}/")
        if key.startswith("cvl-pipelines/bundles/"):
            assert s3.head_object(Bucket=BUCKET, Key=key + "manifest.json")
        elif key.startswith("cvl-pipelines/contexts/"):
            assert s3.head_object(Bucket=BUCKET, Key=key)
    # The template deploys the pipeline: nothing was created through the API.
    assert boto3.client("sagemaker", region_name=REGION).list_pipelines()["PipelineSummaries"] == []


def test_schedules_are_not_part_of_a_template(capsys) -> None:
    assert upsert.main([*SMOKE, "--format", "cloudformation", "--dry-run", "--schedule", "rate(1 day)"]) == 2
    assert "--schedule applies to --format api" in capsys.readouterr().err


@pytest.mark.slow
def test_a_shell_variable_in_a_definition_survives_fn_sub() -> None:
    from configs import Example, Preset, resolve_target
    from pipelines.define.compile import compile_pipeline

    target = resolve_target(region=REGION, role_arn=ROLE_ARN, bucket=BUCKET)
    example = Example(name="nanogpt", path=Path(__file__).resolve().parents[2] / "examples" / "nanogpt")
    preset = Preset(command=["bash", "-c", "python train.py --out ${OUT_DIR:-logs}"])
    compiled = compile_pipeline(example, "shell", preset, target)
    properties = cloudformation.render([compiled], inline=True)["Resources"]["CvlNanogptShell"]["Properties"]
    assert _definition(properties, {"RoleArn": ROLE_ARN, "Bucket": BUCKET}) == compiled.definition


@pytest.mark.slow
def test_a_role_given_by_name_becomes_its_real_arn_with_its_path(account, tmp_path: Path, capsys) -> None:  # noqa: F811
    boto3.client("iam").create_role(
        RoleName="trainer", Path="/service-role/", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )
    argv = [*SMOKE, "--format", "cloudformation", "--out", str(tmp_path), "--role-arn", "trainer"]
    assert upsert.main([*argv, "--skip-preflight"]) == 0
    capsys.readouterr()
    role = _template(tmp_path / "cvl-nanogpt-smoke.template.json")["Parameters"]["RoleArn"]
    assert role["Default"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/trainer"
    assert re.match(role["AllowedPattern"], role["Default"])
