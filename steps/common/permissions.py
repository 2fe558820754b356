"""Every AWS permission cvl-pipelines needs, declared once per principal.

Three principals call AWS:

- the execution role (`cvl-sagemaker-execution`): SageMaker Pipelines starts the jobs with it, the
  Preflight, BuildImage and Train jobs run as it, and EventBridge Scheduler starts scheduled runs with it;
- the CodeBuild role (`cvl-pipelines-codebuild`): the image build logs in to ECR and pushes;
- you, the user running the commands (`bootstrap`, `upsert`, `build`, `run`, `status`, `stop`, `preflight`).

`bootstrap` puts `policy_document(EXECUTION, ...)` and the CodeBuild policies on the roles it makes,
preflight simulates exactly these grants, the table in docs/permissions.md is `markdown_table()`, and a test
checks every AWS call the code makes against the grants of the principal that makes it. Adding a
permission is one `Grant` line here.

Stdlib only and Python 3.9: the Preflight and BuildImage jobs import it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

EXECUTION = "execution"
CODEBUILD = "codebuild"
USER = "user"

EXECUTION_ROLE_NAME = "cvl-sagemaker-execution"
CODEBUILD_ROLE_NAME = "cvl-pipelines-codebuild"
PROJECT_NAME = "cvl-pipelines-image-build"
SCHEDULE_GROUP = "cvl-pipelines"

# Resource templates use these fields; `repository` is `cvl-*` in a policy and the example's own
# repository in a simulation. `region` is the region the policy is rendered for.
_ARN = "arn:{partition}"
_HERE = "{region}:{account}"
BUCKET = _ARN + ":s3:::{bucket}"
OBJECTS = BUCKET + "/*"
CONTEXTS = BUCKET + "/cvl-pipelines/contexts/*"
REPOSITORY = _ARN + ":ecr:" + _HERE + ":repository/{repository}"
PROJECT = _ARN + ":codebuild:" + _HERE + ":project/{project}"
PIPELINES = _ARN + ":sagemaker:" + _HERE + ":pipeline/cvl-*"
EXECUTION_ROLE = _ARN + ":iam::{account}:role/{role}"
CODEBUILD_ROLE = _ARN + ":iam::{account}:role/" + CODEBUILD_ROLE_NAME
SAGEMAKER_LOGS = _ARN + ":logs:" + _HERE + ":log-group:/aws/sagemaker/*"
BUILD_LOGS = _ARN + ":logs:" + _HERE + ":log-group:/aws/codebuild/{project}"
# configs.credentials.SECRET_PREFIX: the project's secrets live under `cvl/` (a test keeps the two equal).
SECRET_PREFIX = "cvl/"
PROJECT_SECRETS = _ARN + ":secretsmanager:" + _HERE + ":secret:" + SECRET_PREFIX + "*"
ANY = "*"
# A gated preset's model packages: the group `cvl-<example>` (or the preset's own, also `cvl-*`), its versions.
MODEL_PACKAGE_GROUPS = _ARN + ":sagemaker:" + _HERE + ":model-package-group/cvl-*"
MODEL_PACKAGES = _ARN + ":sagemaker:" + _HERE + ":model-package/cvl-*"
SCHEDULE_GROUP_ARN = _ARN + ":scheduler:" + _HERE + ":schedule-group/" + SCHEDULE_GROUP
NOTIFY_RULES = _ARN + ":events:" + _HERE + ":rule/cvl-notify-*"
NOTIFY_TOPICS = _ARN + ":sns:" + _HERE + ":cvl-notify-*"
ANY_TOPIC = _ARN + ":sns:" + _HERE + ":*"


def _jobs(kind: str, *prefixes: str) -> tuple[str, ...]:
    return tuple(_ARN + ":sagemaker:" + _HERE + ":" + kind + "/" + prefix for prefix in prefixes)


# SageMaker Pipelines names the jobs it starts `pipelines-<execution>-<step>`; ours are `cvl-*`.
PIPELINE_JOBS = _jobs("processing-job", "cvl-*", "pipelines-*") + _jobs(
    "training-job", "cvl-*", "pipelines-*"
)
ANY_TRAINING_JOB = _jobs("training-job", "*")


class Grant(NamedTuple):
    """Actions allowed on resources (ARN templates), who in the tool needs them, and why."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    used_by: tuple[str, ...]
    why: str
    condition: dict[str, Any] | None = None


def _g(sid: str, actions: str, resources: Any, used_by: str, why: str, condition: Any = None) -> Grant:
    """A grant from space-separated actions and users (keeps each declaration on a line or two)."""
    resources = (resources,) if isinstance(resources, str) else tuple(resources)
    return Grant(sid, tuple(actions.split()), resources, tuple(used_by.split()), why, condition)


# Actions AWS does not let a policy scope to a resource (the service authorization reference lists no
# resource type for them), so their resource is "*".
EXECUTION_GRANTS: tuple[Grant, ...] = (
    _g("PipelineJobs", "sagemaker:CreateProcessingJob sagemaker:CreateTrainingJob sagemaker:DescribeProcessingJob "
       "sagemaker:DescribeTrainingJob sagemaker:StopProcessingJob sagemaker:StopTrainingJob sagemaker:AddTags",
       PIPELINE_JOBS, "pipelines", "SageMaker Pipelines starts, tags, watches and stops the steps' jobs"),
    _g("PassSelfToJobs", "iam:PassRole", EXECUTION_ROLE, "pipelines", "the jobs run as this role",
       {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
    _g("RegisterModels", "sagemaker:CreateModelPackage", (MODEL_PACKAGE_GROUPS, MODEL_PACKAGES), "pipelines",
       "a gated preset's Register step adds the trained model to its cvl-* model package group"),
    _g("ScheduledRuns", "sagemaker:StartPipelineExecution", PIPELINES, "scheduler",
       "EventBridge Scheduler starts scheduled executions"),
    _g("BucketObjects", "s3:GetObject s3:PutObject s3:AbortMultipartUpload", OBJECTS,
       "pipelines preflight build-image train", "step bundles, build contexts, inputs, checkpoints, models"),
    _g("BucketListing", "s3:ListBucket s3:GetBucketLocation", BUCKET, "pipelines preflight train",
       "find the bucket and tell a missing object from a forbidden one"),
    _g("ProjectSecrets", "secretsmanager:GetSecretValue", PROJECT_SECRETS, "train",
       "the entry point reads the preset's secrets at job start: the project's own only"),
    _g("EcrLogin", "ecr:GetAuthorizationToken", ANY, "pipelines train", "pull the training image"),
    _g("EcrPull", "ecr:BatchCheckLayerAvailability ecr:BatchGetImage ecr:GetDownloadUrlForLayer", REPOSITORY,
       "pipelines train", "pull the training image"),
    _g("ImageCache", "ecr:DescribeImages", REPOSITORY, "build-image", "is this context's image built already"),
    _g("ImageBuilds", "codebuild:StartBuild codebuild:BatchGetBuilds codebuild:StopBuild", PROJECT, "build-image",
       "build the image in CodeBuild (CodeBuild pushes with its own role)"),
    _g("JobLogs", "logs:CreateLogGroup logs:CreateLogStream logs:PutLogEvents logs:DescribeLogStreams",
       SAGEMAKER_LOGS, "pipelines preflight build-image train", "the jobs' CloudWatch logs"),
    _g("JobMetrics", "cloudwatch:PutMetricData", ANY, "train", "training metrics",
       {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
    _g("PreflightQuotas", "servicequotas:ListServiceQuotas servicequotas:ListAWSDefaultServiceQuotas", ANY,
       "preflight", "the training instance quota"),
    _g("PreflightRunningJobs", "sagemaker:ListTrainingJobs", ANY, "preflight", "instances running jobs hold"),
    _g("PreflightJobUsage", "sagemaker:DescribeTrainingJob", ANY_TRAINING_JOB, "preflight",
       "instances running jobs hold (any job counts against the quota)"),
    _g("PreflightSelf", "iam:GetRole iam:SimulatePrincipalPolicy", EXECUTION_ROLE, "preflight",
       "the role exists, trusts SageMaker and has these grants"),
)  # fmt: skip

# Per region: the region's repositories and the project's log group.
CODEBUILD_REGION_GRANTS: tuple[Grant, ...] = (
    _g("EcrLogin", "ecr:GetAuthorizationToken", ANY, "codebuild", "docker login to ECR"),
    _g("EcrPushPull", "ecr:BatchCheckLayerAvailability ecr:BatchGetImage ecr:CompleteLayerUpload "
       "ecr:DescribeImages ecr:GetDownloadUrlForLayer ecr:InitiateLayerUpload ecr:PutImage ecr:UploadLayerPart",
       REPOSITORY, "codebuild", "pull the previous image for --cache-from, push the new one"),
    _g("BuildLogs", "logs:CreateLogGroup logs:CreateLogStream logs:PutLogEvents", (BUILD_LOGS, BUILD_LOGS + ":*"),
       "codebuild", "the build's CloudWatch logs"),
)  # fmt: skip

# Per bucket: the build contexts (CodeBuild checks the source bucket's region and ACL first).
CODEBUILD_BUCKET_GRANTS: tuple[Grant, ...] = (
    _g("ReadContexts", "s3:GetObject s3:GetObjectVersion", CONTEXTS, "codebuild", "download the build context"),
    _g("SourceBucket", "s3:GetBucketLocation s3:GetBucketAcl", BUCKET, "codebuild", "where the context is"),
)  # fmt: skip

USER_GRANTS: tuple[Grant, ...] = (
    _g("Bucket", "s3:CreateBucket s3:GetBucketLocation s3:PutBucketPublicAccessBlock "
       "s3:PutEncryptionConfiguration s3:PutBucketTagging", BUCKET, "bootstrap",
       "the private, encrypted, tagged output bucket"),
    _g("Roles", "iam:GetRole iam:CreateRole iam:TagRole iam:UpdateAssumeRolePolicy iam:GetRolePolicy "
       "iam:PutRolePolicy iam:ListRoleTags", (EXECUTION_ROLE, CODEBUILD_ROLE), "bootstrap",
       "the two roles, their trust, policies and tags"),
    _g("PassBuildRole", "iam:PassRole", CODEBUILD_ROLE, "bootstrap upsert build", "the project builds as its role",
       {"StringEquals": {"iam:PassedToService": "codebuild.amazonaws.com"}}),
    _g("BuildProject", "codebuild:BatchGetProjects codebuild:CreateProject", PROJECT, "bootstrap upsert build",
       "the long-lived image build project"),
    _g("Repository", "ecr:CreateRepository ecr:DescribeRepositories ecr:PutLifecyclePolicy ecr:GetLifecyclePolicy "
       "ecr:PutImageScanningConfiguration ecr:DescribeImages ecr:ListTagsForResource ecr:TagResource", REPOSITORY,
       "upsert build", "the example's repository, tagged, scanned on push, old images expired"),
    _g("Builds", "codebuild:StartBuild codebuild:BatchGetBuilds codebuild:StopBuild", PROJECT, "build",
       "build the image from this machine"),
    _g("BucketObjects", "s3:GetObject s3:PutObject s3:AbortMultipartUpload", OBJECTS, "upsert build run",
       "upload step bundles and build contexts, download models"),
    _g("BucketListing", "s3:ListBucket s3:GetBucketLocation", BUCKET, "upsert build run preflight",
       "the bucket's region, and what is uploaded already"),
    _g("Pipelines", "sagemaker:CreatePipeline sagemaker:UpdatePipeline sagemaker:DescribePipeline "
       "sagemaker:AddTags sagemaker:ListTags sagemaker:StartPipelineExecution sagemaker:ListPipelineExecutions",
       PIPELINES, "upsert run status diagnose", "create, update and start cvl-* pipelines; read their tags"),
    _g("Executions", "sagemaker:DescribePipelineExecution sagemaker:ListPipelineExecutionSteps "
       "sagemaker:StopPipelineExecution sagemaker:RetryPipelineExecution "
       "sagemaker:ListPipelineParametersForExecution", PIPELINES[:-1] + "*/execution/*",
       "run status stop diagnose report",
       "follow and stop executions"),
    _g("PipelineList", "sagemaker:ListPipelines", ANY, "upsert status", "which cvl-* pipelines exist"),
    _g("ModelPackageGroups", "sagemaker:DescribeModelPackageGroup sagemaker:CreateModelPackageGroup "
       "sagemaker:AddTags", MODEL_PACKAGE_GROUPS, "upsert run",
       "the tagged model package group a gated preset registers into"),
    _g("PassExecutionRole", "iam:PassRole", EXECUTION_ROLE, "upsert run",
       "pipelines and schedules run as the execution role",
       {"StringEquals": {"iam:PassedToService": ["sagemaker.amazonaws.com", "scheduler.amazonaws.com"]}}),
    _g("Schedules", "scheduler:GetSchedule scheduler:CreateSchedule scheduler:UpdateSchedule "
       "scheduler:DeleteSchedule", tuple(
           _ARN + ":scheduler:" + _HERE + ":schedule/" + group + "/cvl-*" for group in (SCHEDULE_GROUP, "default")),
       "upsert", "upsert --schedule (schedules made before the group are moved out of `default`)"),
    _g("ScheduleGroup", "scheduler:GetScheduleGroup scheduler:CreateScheduleGroup scheduler:TagResource",
       SCHEDULE_GROUP_ARN, "upsert", "the tagged group of our schedules"),
    _g("NotifyRules", "events:DescribeRule events:PutRule events:TagResource events:ListTargetsByRule "
       "events:PutTargets events:RemoveTargets events:DeleteRule", NOTIFY_RULES, "upsert",
       "upsert --notify: the rule on a pipeline's execution status changes"),
    _g("NotifyTopics", "sns:CreateTopic sns:TagResource sns:Subscribe sns:ListSubscriptionsByTopic "
       "sns:DeleteTopic", NOTIFY_TOPICS, "upsert", "upsert --notify email: the pipeline's topic"),
    _g("NotifyTopicPolicy", "sns:GetTopicAttributes sns:SetTopicAttributes", ANY_TOPIC, "upsert",
       "upsert --notify: let only the rule publish (a topic of ours, or the one you name with sns:)"),
    _g("Jobs", "sagemaker:DescribeTrainingJob sagemaker:DescribeProcessingJob sagemaker:StopTrainingJob",
       PIPELINE_JOBS, "run status stop diagnose", "follow the steps' jobs"),
    _g("JobLogs", "logs:DescribeLogStreams logs:GetLogEvents logs:FilterLogEvents", SAGEMAKER_LOGS, "run diagnose",
       "stream training logs"),
    _g("Preflight", "servicequotas:ListServiceQuotas servicequotas:ListAWSDefaultServiceQuotas "
       "sagemaker:ListTrainingJobs", ANY, "preflight", "the training instance quota"),
    _g("PreflightJobUsage", "sagemaker:DescribeTrainingJob", ANY_TRAINING_JOB, "preflight",
       "instances running jobs hold"),
    _g("PreflightRoles", "iam:GetRole iam:SimulatePrincipalPolicy",
       (_ARN + ":iam::{account}:role/*", _ARN + ":iam::{account}:user/*"), "preflight",
       "the execution role's trust, and what the role and you may do"),
)  # fmt: skip

GRANTS: dict[str, tuple[Grant, ...]] = {
    EXECUTION: EXECUTION_GRANTS,
    CODEBUILD: CODEBUILD_REGION_GRANTS + CODEBUILD_BUCKET_GRANTS,
    USER: USER_GRANTS,
}
PRINCIPAL_TITLES = {EXECUTION: "execution role", CODEBUILD: "CodeBuild role", USER: "you"}


class Facts(NamedTuple):
    """What fills the resource templates."""

    partition: str
    region: str
    account: str
    bucket: str
    role: str = EXECUTION_ROLE_NAME
    project: str = PROJECT_NAME
    repository: str = "cvl-*"

    def render(self, template: str) -> str:
        """The ARN `template` with these facts filled in."""
        return template.format(**self._asdict())


def statements(grants: tuple[Grant, ...], facts: Facts) -> list[dict[str, Any]]:
    """IAM policy statements for `grants`: one per grant, its Sid and its resources filled in."""
    out = []
    for grant in grants:
        resources = [facts.render(r) for r in grant.resources]
        statement: dict[str, Any] = {
            "Sid": grant.sid,
            "Effect": "Allow",
            "Action": list(grant.actions) if len(grant.actions) > 1 else grant.actions[0],
            "Resource": resources if len(resources) > 1 else resources[0],
        }
        if grant.condition:
            statement["Condition"] = grant.condition
        out.append(statement)
    return out


def policy_document(grants: tuple[Grant, ...], facts: Facts) -> dict[str, Any]:
    """An IAM policy document allowing `grants`."""
    return {"Version": "2012-10-17", "Statement": statements(grants, facts)}


def used_by(principal: str, *parts: str) -> tuple[Grant, ...]:
    """The grants of `principal` that any of `parts` (e.g. "preflight", "build-image") needs."""
    return tuple(g for g in GRANTS[principal] if set(parts) & set(g.used_by))


def markdown_table() -> str:
    """The permissions table of docs/permissions.md, one row per grant."""
    rows = ["| principal | actions | resources | needed by | why |", "|---|---|---|---|---|"]
    for principal, grants in GRANTS.items():
        for grant in grants:
            actions = ", ".join(f"`{a}`" for a in grant.actions)
            resources = ", ".join(f"`{_readable(r)}`" for r in grant.resources)
            rows.append(
                f"| {PRINCIPAL_TITLES[principal]} | {actions} | {resources} | {', '.join(grant.used_by)} "
                f"| {grant.why} |"
            )
    return "\n".join(rows)


def _readable(template: str) -> str:
    readable = {
        "partition": "aws",
        "repository": "cvl-*",
        "role": EXECUTION_ROLE_NAME,
        "project": PROJECT_NAME,
    }
    for field, value in readable.items():
        template = template.replace("{" + field + "}", value)
    return template


SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"
CODEBUILD_SERVICE = "codebuild.amazonaws.com"


def _trust(service: str, account: str, source_arn: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }


def trust_policy(principal: str, partition: str, account: str) -> dict[str, Any]:
    """Who may assume a role we create, limited to this account (confused-deputy protection).

    aws:SourceAccount on every statement. aws:SourceArn where the service sends it: Scheduler names
    the schedule group, CodeBuild the project (any region: the role is global, a project is regional).
    SageMaker assumes the role for pipelines, processing and training jobs alike, under differing
    source ARNs, so only the account is pinned there.
    """
    arn = f"arn:{partition}"
    if principal == EXECUTION:
        statements = [
            _trust(SAGEMAKER_SERVICE, account),
            _trust(
                SCHEDULER_SERVICE, account, f"{arn}:scheduler:*:{account}:schedule-group/{SCHEDULE_GROUP}"
            ),
        ]
    elif principal == CODEBUILD:
        statements = [
            _trust(CODEBUILD_SERVICE, account, f"{arn}:codebuild:*:{account}:project/{PROJECT_NAME}")
        ]
    else:
        raise ValueError(f"no trust policy for {principal}")
    return {"Version": "2012-10-17", "Statement": statements}
