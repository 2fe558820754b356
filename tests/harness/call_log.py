"""Every AWS call our code makes, by the principal whose credentials made it, checked against the declaration.

`install()` hooks botocore's `before-parameter-build` event on every client made from then on. A call is
ours when a frame of `configs/`, `steps/` or `pipelines/` is on its stack (the SDK's calls made for our
code count; a test's own set-up calls do not). Code that only runs inside a SageMaker job (the training
entry point, the processing containers' modules) calls as the execution role. Otherwise its principal is
who its credentials belong to, as AWS decides: the test credentials are moto's `user/moto` (the user running the commands); credentials from
moto's STS AssumeRole are the role's (the harness runs the containers under the bootstrapped execution role
that way, as SageMaker hands a job its role's credentials).

`uncovered(calls)` names the calls no grant of their principal in `steps.common.permissions` allows.

`enforced(role_arn, ...)` makes IAM real for those roles: a call made with credentials assumed from one
of them is decided by the harness's simulator (the role's own policies, AWS managed ones included, with
the request's context: the service a role is passed to, the secret's tags, the resource's account) and,
when denied, answers AccessDenied in the shape the service's protocol uses, before reaching moto (which
enforces nothing by default). Calls of job-side code run in subprocesses are checked after the fact.
"""

from __future__ import annotations

import fnmatch
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import botocore.session
from botocore.awsrequest import AWSResponse
from moto.secretsmanager.models import secretsmanager_backends
from moto.sts.models import sts_backends

from steps.common import permissions
from tests.harness.iam_policy import ALLOWED, decide
from tests.harness.moto_server import ACCOUNT

ROOT = Path(__file__).resolve().parents[2]
_OURS = tuple(str(ROOT / package) + "/" for package in ("configs", "steps", "pipelines"))
# Code that only ever runs inside a SageMaker job, so as the execution role whatever credentials a test
# hands it: the training entry point and the processing containers' entry modules.
_JOB_ONLY = frozenset(
    str(ROOT / path)
    for path in (
        "steps/train/job/secrets_manager.py",
        "steps/preflight/job/container.py",
        "steps/build_image/job/container.py",
    )
)
_ROLE_PRINCIPALS = {
    permissions.EXECUTION_ROLE_NAME: permissions.EXECUTION,
    permissions.CODEBUILD_ROLE_NAME: permissions.CODEBUILD,
}
# IAM's service prefix where it differs from botocore's signing name.
_PREFIX = {"monitoring": "cloudwatch"}
# The IAM action behind an operation, where it is not `<prefix>:<operation>`.
_ACTION = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "PutBucketEncryption"): "s3:PutEncryptionConfiguration",
}
_FREE = {("sts", "GetCallerIdentity")}  # AWS answers it whatever the policies say


class Call(NamedTuple):
    """One call: principal, service signing name, operation, its parameters, and the region it went to."""

    principal: str
    service: str
    operation: str
    params: dict[str, Any]
    region: str


CALLS: list[Call] = []
_lock = threading.Lock()
_principals: dict[str, str] = {"testing": permissions.USER}


def _principal(access_key: str) -> str:
    if access_key not in _principals:
        role = permissions.USER  # an assumed role we do not own stands for a user (e.g. an SSO role)
        for assumed in sts_backends[ACCOUNT]["global"].assumed_roles:
            if assumed.access_key_id == access_key:
                role = _ROLE_PRINCIPALS.get(assumed.role_arn.rsplit("/", 1)[-1], permissions.USER)
        _principals[access_key] = role
    return _principals[access_key]


def _origin() -> str | None:
    """None when no code of ours is on the stack; EXECUTION when job-only code is; else "ours"."""
    frame = sys._getframe(2)
    ours = False
    while frame is not None:
        name = frame.f_code.co_filename
        if name in _JOB_ONLY:
            return permissions.EXECUTION
        ours = ours or name.startswith(_OURS)
        frame = frame.f_back
    return "ours" if ours else None


_ENFORCED: set[str] = set()
_SERVICE_PRINCIPALS = {
    "sagemaker": "sagemaker.amazonaws.com",
    "codebuild": "codebuild.amazonaws.com",
    "scheduler": "scheduler.amazonaws.com",
}


def _assumed_role(access_key: str) -> str | None:
    for assumed in sts_backends[ACCOUNT]["global"].assumed_roles:
        if assumed.access_key_id == access_key:
            return str(assumed.role_arn)
    return None


SecretTags = dict[str, dict[str, str]]


def secret_tags(region: str) -> SecretTags:
    """Each secret's tags in the moto account (what IAM reads as secretsmanager:ResourceTag/<key>)."""
    store = secretsmanager_backends[ACCOUNT][region].secrets
    return {name: {t["Key"]: t["Value"] for t in store[name].tags or []} for name in list(store.keys())}


def request_context(call: Call, action: str, tags: SecretTags | None = None) -> dict[str, str]:
    """The condition keys a request for `action` of `call` carries, as AWS fills them."""
    context = {"aws:ResourceAccount": ACCOUNT}
    if action == "iam:PassRole" and call.service in _SERVICE_PRINCIPALS:
        context["iam:PassedToService"] = _SERVICE_PRINCIPALS[call.service]
    if call.service == "secretsmanager" and "SecretId" in call.params:
        known = secret_tags(call.region) if tags is None else tags
        for key, value in known.get(call.params["SecretId"], {}).items():
            context[f"secretsmanager:ResourceTag/{key}"] = value
    if call.service == "monitoring" and "Namespace" in call.params:
        context["cloudwatch:namespace"] = call.params["Namespace"]
    return context


def refusal(call: Call, role_arn: str, documents: list[Any], tags: SecretTags | None = None) -> str | None:
    """AWS's AccessDenied message when the role's policy `documents` do not allow every action of `call`."""
    for action in actions(call):
        arn = resource(call, action)
        context = {key: [value] for key, value in request_context(call, action, tags).items()}
        if decide(documents, action, arn, context) != ALLOWED:
            return f"User: {role_arn} is not authorized to perform: {action} on resource: {arn}"
    return None


def _refusal(call: Call, role_arn: str) -> str | None:
    from tests.harness.iam_simulator import role_documents

    return refusal(call, role_arn, role_documents(role_arn))


def _recorder(client: Any) -> Any:
    def record(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        credentials = client._request_signer._credentials
        key = credentials.access_key if credentials is not None else "anonymous"
        call = Call(
            permissions.USER,
            model.service_model.signing_name,
            model.name,
            dict(params),
            client.meta.region_name,
        )
        role_arn = _assumed_role(key) if _ENFORCED else None
        if role_arn in _ENFORCED:
            context["cvl_refused"] = _refusal(call, role_arn)
        origin = _origin()
        if origin is None:
            return
        call = call._replace(principal=origin if origin == permissions.EXECUTION else _principal(key))
        with _lock:
            CALLS.append(call)

    return record


def refuse(model: Any, context: dict[str, Any], **_: Any) -> Any:
    """A `before-call` handler: answer AccessDenied, as the service's protocol shapes it, for a refused call."""
    message = context.get("cvl_refused")
    if not message:
        return None
    json_protocol = model.service_model.protocol in ("json", "rest-json")
    code = "AccessDeniedException" if json_protocol else "AccessDenied"
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}
    return AWSResponse("https://harness.invalid/", 403, {}, None), parsed


@contextmanager
def enforced(*role_arns: str) -> Iterator[None]:
    """IAM decides, as the harness simulates it, every call made with credentials assumed from these roles."""
    _ENFORCED.update(role_arns)
    try:
        yield
    finally:
        _ENFORCED.difference_update(role_arns)


_original_create_client = botocore.session.Session.create_client


def _create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
    client = _original_create_client(self, *args, **kwargs)
    client.meta.events.register("before-parameter-build", _recorder(client))
    client.meta.events.register("before-call", refuse)
    return client


def install() -> None:
    """Record the calls of every botocore client created from now on (idempotent)."""
    botocore.session.Session.create_client = _create_client  # type: ignore[method-assign]


def actions(call: Call) -> list[str]:
    """The IAM actions a call needs (PassRole when it hands a role to a service, TagX when it tags)."""
    if (call.service, call.operation) in _FREE:
        return []
    prefix = _PREFIX.get(call.service, call.service)
    needed = [_ACTION.get((call.service, call.operation), f"{prefix}:{call.operation}")]
    params = call.params
    role = params.get("RoleArn") or params.get("serviceRole") or (params.get("Target") or {}).get("RoleArn")
    if role and call.operation.startswith(("Create", "Update")):
        needed.append("iam:PassRole")
    if call.operation == "CreateRole" and params.get("Tags"):
        needed.append("iam:TagRole")
    if call.service == "sagemaker" and call.operation.startswith("Create") and params.get("Tags"):
        needed.append("sagemaker:AddTags")
    # Tagging on create needs the service's TagResource too (ECR, Scheduler, EventBridge, SNS document it).
    if (
        call.service in ("ecr", "scheduler", "events", "sns")
        and call.operation.startswith(("Create", "PutRule"))
        and (params.get("tags") or params.get("Tags"))
    ):
        needed.append(f"{prefix}:TagResource")
    return needed


def resource(call: Call, action: str) -> str:
    """The ARN `action` of `call` is authorized on ("*" when the action has no resource, or it is unknown)."""
    p, here, params = "arn:aws", f"{call.region}:{ACCOUNT}", call.params
    if action == "iam:PassRole":
        return params.get("RoleArn") or params.get("serviceRole") or params["Target"]["RoleArn"]
    if call.service == "s3" and "Bucket" in params:
        if "Key" in params and action.startswith(("s3:GetObject", "s3:PutObject")):
            return f"{p}:s3:::{params['Bucket']}/{params['Key']}"
        return f"{p}:s3:::{params['Bucket']}"
    repository = params.get("repositoryName") or (params.get("repositoryNames") or [None])[0]
    if call.service == "ecr" and repository:
        return f"{p}:ecr:{here}:repository/{repository}"
    if "resourceArn" in params:
        return params["resourceArn"]
    if call.service == "codebuild":
        project = params.get("projectName") or params.get("name") or (params.get("names") or [None])[0]
        build = params.get("id") or (params.get("ids") or [None])[0]
        project = project or (build.split(":")[0] if build else None)
        return f"{p}:codebuild:{here}:project/{project}" if project else "*"
    if call.service == "iam":
        if "PolicySourceArn" in params:
            return params["PolicySourceArn"]
        if "RoleName" in params:
            return f"{p}:iam::{ACCOUNT}:role/{params['RoleName']}"
        if "UserName" in params:
            return f"{p}:iam::{ACCOUNT}:user/{params['UserName']}"
    if call.service == "sagemaker":
        for key, kind in (
            ("TrainingJobName", "training-job"),
            ("ProcessingJobName", "processing-job"),
            ("PipelineName", "pipeline"),
            ("ModelPackageGroupName", "model-package-group"),
        ):
            if key in params:
                return f"{p}:sagemaker:{here}:{kind}/{params[key].lower()}"
        return params.get("PipelineExecutionArn") or params.get("ResourceArn") or "*"
    if call.service == "scheduler" and "Name" in params:
        if "ScheduleGroup" in call.operation:
            return f"{p}:scheduler:{here}:schedule-group/{params['Name']}"
        return f"{p}:scheduler:{here}:schedule/{params.get('GroupName') or 'default'}/{params['Name']}"
    if call.service == "events" and ("Name" in params or "Rule" in params):
        return f"{p}:events:{here}:rule/{params.get('Name') or params['Rule']}"
    if call.service == "sns":
        if "TopicArn" in params:
            return str(params["TopicArn"])
        if "Name" in params:
            return f"{p}:sns:{here}:{params['Name']}"
    if call.service == "logs" and "logGroupName" in params:
        stream = f":log-stream:{params['logStreamName']}" if "logStreamName" in params else ""
        return f"{p}:logs:{here}:log-group:{params['logGroupName']}{stream}"
    if call.service == "secretsmanager" and "SecretId" in params:
        return f"{p}:secretsmanager:{here}:secret:{params['SecretId']}"
    return "*"


def _patterns(principal: str) -> list[tuple[tuple[str, ...], list[str]]]:
    # Any bucket, role and region: tests use several; the names that carry meaning (cvl-*, the project,
    # the job and pipeline prefixes, the resource types) stay.
    facts = permissions.Facts(partition="aws", region="*", account=ACCOUNT, bucket="*", role="*")
    return [(g.actions, [facts.render(r) for r in g.resources]) for g in permissions.GRANTS[principal]]


def covered(call: Call, action: str) -> bool:
    """Whether a grant of the call's principal allows `action` on the call's resource."""
    arn = resource(call, action)
    for granted, resources in _patterns(call.principal):
        if any(fnmatch.fnmatchcase(action, pattern) for pattern in granted) and (
            arn == "*" and "*" in resources or any(fnmatch.fnmatchcase(arn, r) for r in resources)
        ):
            return True
    return False


def uncovered(calls: list[Call]) -> list[str]:
    """One line per (principal, action, resource) that the declaration does not allow."""
    missing = {
        f"{call.principal}: {action} on {resource(call, action)} ({call.service}.{call.operation})"
        for call in calls
        for action in actions(call)
        if not covered(call, action)
    }
    return sorted(missing)
