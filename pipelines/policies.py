"""The SageMaker execution role's trust and permissions, scoped to the bucket, `cvl-*` and the project.

The role serves three principals: SageMaker Pipelines (starts the jobs), the jobs themselves (Preflight,
BuildImage, Train), and EventBridge Scheduler (starts scheduled executions). No `*FullAccess`.
"""

from __future__ import annotations

from typing import Any

from configs.credentials import SECRET_PREFIX

EXECUTION_ROLE_NAME = "cvl-sagemaker-execution"
EXECUTION_POLICY_NAME = "cvl-pipelines-execution"


def execution_trust_policy() -> dict[str, Any]:
    """SageMaker runs the pipeline and its jobs with the role; EventBridge Scheduler starts scheduled runs."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["sagemaker.amazonaws.com", "scheduler.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def execution_policy(
    partition: str, region: str, account: str, bucket: str, role_name: str
) -> dict[str, Any]:
    """What a cvl pipeline needs, and nothing account-wide where AWS allows a narrower resource."""
    arn = f"arn:{partition}"
    here = f"{region}:{account}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PipelineJobs",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags",
                ],
                "Resource": [
                    f"{arn}:sagemaker:{here}:processing-job/cvl-*",
                    f"{arn}:sagemaker:{here}:processing-job/pipelines-*",
                    f"{arn}:sagemaker:{here}:training-job/cvl-*",
                    f"{arn}:sagemaker:{here}:training-job/pipelines-*",
                ],
            },
            {
                "Sid": "ScheduledRuns",
                "Effect": "Allow",
                "Action": "sagemaker:StartPipelineExecution",
                "Resource": f"{arn}:sagemaker:{here}:pipeline/cvl-*",
            },
            {
                "Sid": "PassSelfToJobs",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"{arn}:iam::{account}:role/{role_name}",
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            },
            {
                "Sid": "Bucket",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                "Resource": f"{arn}:s3:::{bucket}/*",
            },
            {
                "Sid": "BucketListing",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": f"{arn}:s3:::{bucket}",
            },
            # The training entry point reads the preset's secrets at job start: the project's own only.
            {
                "Sid": "ProjectSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": f"{arn}:secretsmanager:{here}:secret:{SECRET_PREFIX}*",
            },
            # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "EcrPullAndCacheCheck",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:DescribeImages",
                    "ecr:DescribeRepositories",
                ],
                "Resource": f"{arn}:ecr:{here}:repository/cvl-*",
            },
            {
                "Sid": "ImageBuilds",
                "Effect": "Allow",
                "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
                "Resource": f"{arn}:codebuild:{here}:project/cvl-pipelines-image-build",
            },
            {
                "Sid": "JobLogs",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                "Resource": f"{arn}:logs:{here}:log-group:/aws/sagemaker/*",
            },
            {
                "Sid": "JobMetrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            },
            # Preflight inside the pipeline: quotas and running jobs cannot be scoped to resources.
            {
                "Sid": "PreflightReads",
                "Effect": "Allow",
                "Action": [
                    "servicequotas:GetServiceQuota",
                    "servicequotas:ListServiceQuotas",
                    "servicequotas:ListAWSDefaultServiceQuotas",
                    "sagemaker:ListTrainingJobs",
                ],
                "Resource": "*",
            },
            {
                "Sid": "PreflightSelf",
                "Effect": "Allow",
                "Action": ["iam:GetRole", "iam:SimulatePrincipalPolicy"],
                "Resource": f"{arn}:iam::{account}:role/{role_name}",
            },
        ],
    }
