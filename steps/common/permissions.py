"""Every AWS permission cvl-pipelines needs, declared once per principal.

Three principals call AWS:

- the execution role (`cvl-sagemaker-execution`): SageMaker Pipelines starts the jobs with it, the
  Preflight, BuildImage and Train jobs run as it, and EventBridge Scheduler starts scheduled runs with it;
- the CodeBuild role (`cvl-pipelines-codebuild`): the image build logs in to ECR and pushes;
- you, the user running the commands (`bootstrap`, `upsert`, `build`, `run`, `status`, `stop`, `preflight`).

`bootstrap` puts `policy_document(EXECUTION, ...)` and the CodeBuild policies on the roles it makes (their
trust policies are `steps.common.trust`), `bootstrap --grant-to` gives an existing role what it lacks of them,
preflight simulates exactly these grants, the table in docs/permissions.md is `permission_table.markdown_table()`, and a test
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
# AmazonSageMakerFullAccess (Studio's default execution role) may start builds of projects named
# `sagemaker*`: with this name a Studio role runs the BuildImage step with no IAM change. Before it,
# the project was `cvl-pipelines-image-build`; bootstrap and upsert make the new one.
PROJECT_NAME = "sagemaker-cvl-pipelines-image-build"
SCHEDULE_GROUP = "cvl-pipelines"

# Resource templates use these fields; `repository` is `cvl-*` in a policy and the example's own
# repository in a simulation. `region` is the region the policy is rendered for.
_ARN = "arn:{partition}"
_HERE = "{region}:{account}"
BUCKET = _ARN + ":s3:::{bucket}"
OBJECTS = BUCKET + "/*"
REPOSITORY = _ARN + ":ecr:" + _HERE + ":repository/{repository}"
PROJECT = _ARN + ":codebuild:" + _HERE + ":project/{project}"
PIPELINES = _ARN + ":sagemaker:" + _HERE + ":pipeline/cvl-*"
EXECUTION_ROLE = _ARN + ":iam::{account}:role{role_path}{role}"
CODEBUILD_ROLE = _ARN + ":iam::{account}:role/" + CODEBUILD_ROLE_NAME
SAGEMAKER_LOGS = _ARN + ":logs:" + _HERE + ":log-group:/aws/sagemaker/*"
BUILD_LOGS = _ARN + ":logs:" + _HERE + ":log-group:/aws/codebuild/{project}"
# Build contexts in any bucket of the account (the SDK default bucket of a Studio user, or bootstrap's):
# the project builds only ours, and only this account's buckets are read.
ANY_CONTEXTS = _ARN + ":s3:::*/cvl-pipelines/contexts/*"
ANY_BUCKET = _ARN + ":s3:::*"
IN_ACCOUNT = {"StringEquals": {"aws:ResourceAccount": "{account}"}}
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


# When a grant is needed: always, only when the preset names secrets (then on those secrets), or
# optionally: it only makes something possible that a run does without (the Preflight step's own checks,
# stopping a build when its step is stopped). A missing optional grant is a warn naming what is lost.
ALWAYS = "always"
SECRETS = "secrets"
REGISTER = "register"  # only for a gated preset (one that registers its model)
OPTIONAL = "optional"
QUOTA_CHECK = "the Preflight step's quota check"
# The parts of a run the execution role does (the scheduler's part only with a schedule).
RUN_PARTS = ("pipelines", "preflight", "build-image", "train")


class Grant(NamedTuple):
    """Actions allowed on resources (ARN templates), who in the tool needs them, and why.

    `when` is ALWAYS, SECRETS or OPTIONAL; for OPTIONAL, `enables` says what the grant makes possible.
    """

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    used_by: tuple[str, ...]
    why: str
    condition: dict[str, Any] | None = None
    when: str = ALWAYS
    enables: str = ""


def _g(
    sid: str,
    actions: str,
    resources: Any,
    used_by: str,
    why: str,
    condition: Any = None,
    when: str = ALWAYS,
    enables: str = "",
) -> Grant:
    """A grant from space-separated actions and users (keeps each declaration on a line or two)."""
    resources = (resources,) if isinstance(resources, str) else tuple(resources)
    return Grant(
        sid, tuple(actions.split()), resources, tuple(used_by.split()), why, condition, when, enables
    )


# Actions AWS does not let a policy scope to a resource (the service authorization reference lists no
# resource type for them), so their resource is "*".
EXECUTION_GRANTS: tuple[Grant, ...] = (
    _g("PipelineJobs", "sagemaker:CreateProcessingJob sagemaker:CreateTrainingJob sagemaker:DescribeProcessingJob "
       "sagemaker:DescribeTrainingJob sagemaker:StopProcessingJob sagemaker:StopTrainingJob sagemaker:AddTags",
       PIPELINE_JOBS, "pipelines", "SageMaker Pipelines starts, tags, watches and stops the steps' jobs"),
    _g("PassSelfToJobs", "iam:PassRole", EXECUTION_ROLE, "pipelines", "the jobs run as this role",
       {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
    _g("RegisterModels", "sagemaker:CreateModelPackage", (MODEL_PACKAGE_GROUPS, MODEL_PACKAGES), "pipelines",
       "a gated preset's Register step adds the trained model to its cvl-* model package group", when=REGISTER),
    _g("ScheduledRuns", "sagemaker:StartPipelineExecution", PIPELINES, "scheduler",
       "EventBridge Scheduler starts scheduled executions"),
    _g("BucketObjects", "s3:GetObject s3:PutObject s3:AbortMultipartUpload", OBJECTS,
       "pipelines preflight build-image train", "step bundles, build contexts, inputs, checkpoints, models"),
    _g("BucketListing", "s3:ListBucket s3:GetBucketLocation", BUCKET, "pipelines preflight train",
       "find the bucket and tell a missing object from a forbidden one"),
    _g("ProjectSecrets", "secretsmanager:GetSecretValue", PROJECT_SECRETS, "preflight train",
       "the entry point reads the preset's secrets at job start: the project's own only", when=SECRETS),
    _g("EcrLogin", "ecr:GetAuthorizationToken", ANY, "pipelines train", "pull the training image"),
    _g("EcrPull", "ecr:BatchCheckLayerAvailability ecr:BatchGetImage ecr:GetDownloadUrlForLayer", REPOSITORY,
       "pipelines train", "pull the training image"),
    _g("ImageCache", "ecr:DescribeImages", REPOSITORY, "build-image", "is this context's image built already"),
    _g("ImageBuilds", "codebuild:StartBuild codebuild:BatchGetBuilds", PROJECT, "build-image",
       "build the image in CodeBuild (CodeBuild pushes with its own role)"),
    _g("StopImageBuilds", "codebuild:StopBuild", PROJECT, "build-image", "stop the build when its step is stopped",
       when=OPTIONAL, enables="stopping the build when the BuildImage step is stopped"),
    _g("JobLogs", "logs:CreateLogGroup logs:CreateLogStream logs:PutLogEvents logs:DescribeLogStreams",
       SAGEMAKER_LOGS, "pipelines preflight build-image train", "the jobs' CloudWatch logs"),
    _g("JobMetrics", "cloudwatch:PutMetricData", ANY, "train", "training metrics",
       {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
    _g("PreflightQuotas", "servicequotas:ListServiceQuotas servicequotas:ListAWSDefaultServiceQuotas", ANY,
       "preflight", "the training instance quota", when=OPTIONAL, enables=QUOTA_CHECK),
    _g("PreflightRunningJobs", "sagemaker:ListTrainingJobs", ANY, "preflight", "instances running jobs hold",
       when=OPTIONAL, enables=QUOTA_CHECK),
    _g("PreflightJobUsage", "sagemaker:DescribeTrainingJob", ANY_TRAINING_JOB, "preflight",
       "instances running jobs hold (any job counts against the quota)", when=OPTIONAL, enables=QUOTA_CHECK),
    _g("PreflightSelf", "iam:SimulatePrincipalPolicy", EXECUTION_ROLE, "preflight",
       "the role has these grants", when=OPTIONAL,
       enables="the Preflight step's role-permissions check"),
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

# The build contexts, in any bucket of the account (CodeBuild checks the source bucket's region and ACL
# first): a user may keep them in a bucket bootstrap never saw (Studio's SDK default bucket).
CODEBUILD_BUCKET_GRANTS: tuple[Grant, ...] = (
    _g("ReadContexts", "s3:GetObject s3:GetObjectVersion", ANY_CONTEXTS, "codebuild", "download the build context",
       IN_ACCOUNT),
    _g("SourceBucket", "s3:GetBucketLocation s3:GetBucketAcl", ANY_BUCKET, "codebuild", "where the context is",
       IN_ACCOUNT),
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
    _g("RoleLookup", "iam:ListRoles", ANY, "preflight upsert run build",
       "a role's real ARN (its path) and trust where GetRole is not allowed (a Studio role may only list)"),
    _g("ReadSecretTags", "secretsmanager:DescribeSecret", PROJECT_SECRETS, "preflight",
       "whether the preset's secrets carry the tag a role's policy asks for", when=SECRETS),
    _g("ReadSecretsAsTheRole", "secretsmanager:GetSecretValue", PROJECT_SECRETS, "preflight",
       "where you are the execution role (a Studio terminal) and may not simulate it, preflight reads each "
       "secret as Train will (the value is dropped unread)", when=SECRETS),
    _g("GrantTo", "iam:GetRole iam:SimulatePrincipalPolicy iam:GetRolePolicy iam:PutRolePolicy",
       _ARN + ":iam::{account}:role/*", "grant-to",
       "bootstrap --grant-to ROLE: an admin gives an existing role exactly what a run needs and it lacks"),
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
    role_path: str = "/"

    def render(self, template: str) -> str:
        """The ARN `template` with these facts filled in."""
        return template.format(**self._asdict())

    def render_condition(self, condition: dict[str, Any] | None) -> dict[str, Any] | None:
        """A grant's condition with these facts filled into its values."""
        if condition is None:
            return None
        return {
            operator: {
                key: self.render(value) if isinstance(value, str) else [self.render(v) for v in value]
                for key, value in tests.items()
            }
            for operator, tests in condition.items()
        }


def needed(
    principal: str, parts: tuple[str, ...], *, secrets: bool, register: bool = False
) -> tuple[Grant, ...]:
    """The grants of `principal` a run needs for `parts` (e.g. "pipelines", "build-image", "train"): the
    secrets grant only when the preset names secrets, the registry's only when it registers its model;
    OPTIONAL grants are included (the caller tells them apart)."""
    wanted = {ALWAYS, OPTIONAL} | ({SECRETS} if secrets else set()) | ({REGISTER} if register else set())
    return tuple(g for g in used_by(principal, *parts) if g.when in wanted)


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
            statement["Condition"] = facts.render_condition(grant.condition)
        out.append(statement)
    return out


def policy_document(grants: tuple[Grant, ...], facts: Facts) -> dict[str, Any]:
    """An IAM policy document allowing `grants`."""
    return {"Version": "2012-10-17", "Statement": statements(grants, facts)}


def used_by(principal: str, *parts: str) -> tuple[Grant, ...]:
    """The grants of `principal` that any of `parts` (e.g. "preflight", "build-image") needs."""
    return tuple(g for g in GRANTS[principal] if set(parts) & set(g.used_by))
