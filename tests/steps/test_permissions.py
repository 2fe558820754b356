"""The permission declaration: its generated policies pass parliament, and docs/permissions.md's table is generated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from parliament import analyze_policy_string, enhance_finding

from steps.common import permissions
from steps.common.permission_table import markdown_table

ROOT = Path(__file__).resolve().parents[2]
FACTS = permissions.Facts(partition="aws", region="us-east-1", account="123456789012", bucket="cvl-bucket")
POLICIES = {
    "execution": permissions.policy_document(permissions.EXECUTION_GRANTS, FACTS),
    "codebuild-region": permissions.policy_document(permissions.CODEBUILD_REGION_GRANTS, FACTS),
    "codebuild-bucket": permissions.policy_document(permissions.CODEBUILD_BUCKET_GRANTS, FACTS),
    "user": permissions.policy_document(permissions.USER_GRANTS, FACTS),
}
_SEVERITY = {"INFO": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_parliament_finds_nothing_above_low_and_no_needless_star(name: str) -> None:
    analyzed = analyze_policy_string(json.dumps(POLICIES[name]))
    findings = [
        enhance_finding(finding) or finding for finding in analyzed.findings
    ]  # severity from its config
    reported = [
        f"{finding.issue} ({finding.severity}): {finding.detail} at {finding.location}"
        for finding in findings
        if _SEVERITY.get(str(finding.severity).upper(), 4) > _SEVERITY["LOW"]
        or finding.issue in ("RESOURCE_STAR", "UNKNOWN_ACTION", "UNKNOWN_PREFIX")
    ]
    assert reported == []


def test_parliament_would_catch_a_needless_star() -> None:
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "*"}],
    }
    assert [f.issue for f in analyze_policy_string(json.dumps(wide)).findings] == ["RESOURCE_STAR"]


def test_every_star_resource_is_an_action_without_resource_types() -> None:
    stars = sorted(
        a for g in permissions.GRANTS.values() for s in g if s.resources == ("*",) for a in s.actions
    )
    assert stars == sorted(
        [
            "cloudwatch:PutMetricData",
            "ecr:GetAuthorizationToken",
            "ecr:GetAuthorizationToken",
            "iam:ListRoles",
            "sagemaker:ListPipelines",
            "sagemaker:ListTrainingJobs",
            "sagemaker:ListTrainingJobs",
            "servicequotas:ListAWSDefaultServiceQuotas",
            "servicequotas:ListAWSDefaultServiceQuotas",
            "servicequotas:ListServiceQuotas",
            "servicequotas:ListServiceQuotas",
        ]
    )


def test_the_documented_permission_table_is_the_generated_one() -> None:
    page = (ROOT / "docs" / "permissions.md").read_text()
    assert markdown_table() in page, (
        "docs/permissions.md's table differs from steps/common/permissions.py: paste "
        "`python -c 'from steps.common.permission_table import markdown_table; print(markdown_table())'`"
    )


def test_the_secret_prefix_is_the_one_the_credentials_module_reads() -> None:
    from configs.credentials import SECRET_PREFIX

    assert permissions.SECRET_PREFIX == SECRET_PREFIX


# What `docker pull` and `docker push` ask of ECR (the registry API behind the Docker protocol).
_DOCKER = {
    "pull": {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
    "push": {"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
             "ecr:CompleteLayerUpload", "ecr:PutImage"},
}  # fmt: skip


def test_the_codebuild_role_may_do_what_the_buildspec_does() -> None:
    import re

    import yaml

    from steps.build_image.job.codebuild import buildspec

    commands = " ".join(
        c for phase in yaml.safe_load(buildspec())["phases"].values() for c in phase["commands"]
    )
    needed = set()
    for command in re.findall(r"aws ecr ([a-z-]+)", commands):
        name = (
            "GetAuthorizationToken" if command == "get-login-password" else command.title().replace("-", "")
        )
        needed.add(f"ecr:{name}")
    for verb in re.findall(r"docker (pull|push)", commands):
        needed |= _DOCKER[verb]
    assert {"ecr:GetAuthorizationToken", "ecr:DescribeImages", "ecr:PutImage"} <= needed
    granted = {action for grant in permissions.GRANTS[permissions.CODEBUILD] for action in grant.actions}
    assert needed <= granted, needed - granted
