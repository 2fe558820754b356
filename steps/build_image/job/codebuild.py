"""The long-lived CodeBuild project that builds example images: create it once, start builds, wait.

`ensure_project` runs only from the user's machine (it creates an IAM role); inside the pipeline
the BuildImage job only calls `start_build` and `wait_for_build`, so its role needs no IAM rights.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from steps.build_image.job.build_facts import BuildFacts, console_host
from steps.build_image.job.iam import ensure_role
from steps.common.aws import client
from steps.common.errors import is_access_denied
from steps.common.limits import POLL_SECONDS
from steps.common.tags import resource_tags, tag_list

BUILD_IMAGE = "aws/codebuild/standard:7.0"
COMPUTE_TYPE = "BUILD_GENERAL1_MEDIUM"
TIMEOUT_MINUTES = 60
DONE_STATUSES = frozenset({"SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"})

# A role made seconds ago is not yet assumable by CodeBuild (IAM is eventually consistent), and
# CreateProject says so with InvalidInputException; AWS documents ~10 s, we allow a minute.
_ROLE_PROPAGATION_ATTEMPTS = 12
_ROLE_PROPAGATION_SECONDS = 5.0
_UNSEEN_POLLS = 6


class BuildFailed(RuntimeError):
    """A build ended without SUCCEEDED; the message names the build, the failed phase and the log link."""

    def __init__(self, message: str, build_id: str, phase: str | None, log_link: str) -> None:
        super().__init__(message)
        self.build_id = build_id
        self.phase = phase
        self.log_link = log_link


class BuildRefused(RuntimeError):
    """CodeBuild would not start a build (an account quota); the message says which quota to raise."""


class ProjectMissing(RuntimeError):
    """The CodeBuild project does not exist; only the user's machine (with IAM rights) creates it."""


def log_group(project: str) -> str:
    """The CloudWatch log group a project's builds write to."""
    return f"/aws/codebuild/{project}"


def buildspec() -> str:
    """The build commands: log in to ECR, pull the newest image for `--cache-from`, build, push.

    JSON is valid YAML, and it spares the shell quoting a YAML buildspec needs. In version 0.2 all
    commands share one shell, so CACHE_FROM set in pre_build reaches build. The push is in the
    build phase because CodeBuild runs post_build even after a failed build.
    """
    previous = (
        'aws ecr describe-images --repository-name "$REPOSITORY" --filter tagStatus=TAGGED '
        '--query "sort_by(imageDetails,&imagePushedAt)[-1].imageTags[0]" --output text'
    )
    spec = {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "pre_build": {
                "commands": [
                    'aws ecr get-login-password | docker login --username AWS --password-stdin "$REGISTRY"',
                    f'PREVIOUS="$({previous} 2>/dev/null || true)"',
                    'CACHE_FROM=""; if [ -n "$PREVIOUS" ] && [ "$PREVIOUS" != "None" ] && '
                    'docker pull "$REGISTRY/$REPOSITORY:$PREVIOUS"; '
                    'then CACHE_FROM="--cache-from $REGISTRY/$REPOSITORY:$PREVIOUS"; fi',
                ]
            },
            "build": {
                "commands": [
                    "docker build $CACHE_FROM --build-arg BUILDKIT_INLINE_CACHE=1 "
                    '--label "cvl-pipelines.context-digest=$CONTEXT_DIGEST" --tag "$IMAGE_URI" .',
                    'docker push "$IMAGE_URI"',
                ]
            },
        },
    }
    return json.dumps(spec, indent=2)


def project_exists(codebuild: Any, project: str) -> bool | None:
    """Whether the CodeBuild project exists in the client's region; None when the caller may not ask
    (AmazonSageMakerFullAccess may start builds of `sagemaker*` projects, not describe them)."""
    try:
        return bool(codebuild.batch_get_projects(names=[project]).get("projects"))
    except ClientError as error:
        if is_access_denied(error):
            return None
        raise


def ensure_project(
    session: Any, facts: BuildFacts, *, owner: bool = False, sleep: Callable[[float], None] = time.sleep
) -> list[str]:
    """Create the service role and the CodeBuild project when missing; return what was created or updated.

    Idempotent. With `owner` (bootstrap) the service role is put right even when the project exists;
    otherwise (upsert, build) an existing project, or one the caller may not see, is left to bootstrap,
    so a user without IAM rights (a Studio role) needs none here.
    """
    codebuild = client(session, "codebuild")
    exists = project_exists(codebuild, facts.project)
    if exists is None or (exists and not owner):
        return []
    changed, role_arn = ensure_role(client(session, "iam"), facts)
    if exists:
        return changed
    request = {
        "name": facts.project,
        "description": "Builds cvl-pipelines training images (cvl-<example>:<context hash>); one per region",
        "source": {"type": "S3", "location": f"{facts.bucket}/{facts.context_key('placeholder')}"},
        "artifacts": {"type": "NO_ARTIFACTS"},
        "environment": {
            "type": "LINUX_CONTAINER",
            "image": BUILD_IMAGE,
            "computeType": COMPUTE_TYPE,
            "privilegedMode": True,  # docker build needs the Docker daemon
            "imagePullCredentialsType": "CODEBUILD",
        },
        "serviceRole": role_arn,
        "timeoutInMinutes": TIMEOUT_MINUTES,
        "logsConfig": {
            "cloudWatchLogs": {"status": "ENABLED", "groupName": log_group(facts.project)},
            "s3Logs": {"status": "DISABLED"},
        },
        "tags": tag_list(resource_tags(), key="key", value="value"),
    }
    for attempt in range(_ROLE_PROPAGATION_ATTEMPTS):
        try:
            codebuild.create_project(**request)
            return [*changed, f"CodeBuild project {facts.project}"]
        except codebuild.exceptions.ResourceAlreadyExistsException:
            return changed
        except codebuild.exceptions.InvalidInputException as error:
            if "assume" not in str(error).lower() or attempt == _ROLE_PROPAGATION_ATTEMPTS - 1:
                raise
            sleep(_ROLE_PROPAGATION_SECONDS)
    return changed  # not reached: the last attempt returns or raises


def start_build(
    codebuild: Any, facts: BuildFacts, *, digest: str, tag: str, attempt: str | None = None
) -> str:
    """Start building `facts.repository:tag` from the context zip of `digest`; return the build id.

    The idempotency token (digest + attempt) makes a StartBuild that botocore retries return the
    same build instead of starting a second one. ProjectMissing when the project does not exist.
    """
    token = f"{digest[:40]}-{attempt or uuid.uuid4().hex[:16]}"
    variables = {
        "IMAGE_URI": facts.image_uri(tag),
        "IMAGE_TAG": tag,
        "REGISTRY": facts.registry,
        "REPOSITORY": facts.repository,
        "CONTEXT_DIGEST": digest,
        "DOCKER_BUILDKIT": "1",
    }
    try:
        response = codebuild.start_build(
            projectName=facts.project,
            sourceTypeOverride="S3",
            sourceLocationOverride=f"{facts.bucket}/{facts.context_key(digest)}",
            buildspecOverride=buildspec(),
            privilegedModeOverride=True,
            environmentVariablesOverride=[
                {"name": name, "value": value, "type": "PLAINTEXT"} for name, value in variables.items()
            ],
            idempotencyToken=token,
        )
    except codebuild.exceptions.ResourceNotFoundException:
        raise ProjectMissing(
            f"CodeBuild project {facts.project} does not exist in {facts.region}: run "
            "`python -m pipelines.bootstrap` once with IAM rights (it creates the project and its role)"
        ) from None
    except codebuild.exceptions.AccountLimitExceededException as error:
        # New accounts often start with a concurrent-build quota of 0 or 1 ("Cannot have more than 0
        # builds in queue for the account"); only a quota increase or AWS Support lifts it.
        raise BuildRefused(
            f"CodeBuild refused to start a build in {facts.region}: {error.response['Error']['Message']}. "
            "Request more 'Concurrently running builds for Linux/Medium environment' in Service Quotas "
            "(AWS CodeBuild), or ask AWS Support, then run again"
        ) from None
    return str(response["build"]["id"])


def log_link(build: dict[str, Any], region: str) -> str:
    """The console link to a build's CloudWatch logs (the build's own deep link when it has one)."""
    logs = build.get("logs") or {}
    if logs.get("deepLink"):
        return str(logs["deepLink"])
    host = f"https://{console_host(region)}"
    if logs.get("groupName") and logs.get("streamName"):
        return (
            f"{host}/cloudwatch/home?region={region}#logEvent:group={quote(logs['groupName'], safe='/')};"
            f"stream={quote(logs['streamName'], safe='/')}"
        )
    # No log stream yet (the build failed before it started): link the build's console page.
    project = build.get("projectName") or str(build.get("id", "")).split(":")[0]
    return (
        f"{host}/codesuite/codebuild/projects/{quote(project, safe='')}/build/"
        f"{quote(str(build.get('id', '')), safe='')}/?region={region}"
    )


def failed_phase(build: dict[str, Any]) -> tuple[str | None, str]:
    """The first phase that did not succeed and its contexts' messages."""
    for phase in build.get("phases") or []:
        if phase.get("phaseStatus") in ("FAILED", "FAULT", "TIMED_OUT", "STOPPED"):
            messages = [c["message"] for c in phase.get("contexts") or [] if c.get("message")]
            return str(phase["phaseType"]), "; ".join(messages)
    return build.get("currentPhase"), ""


def wait_for_build(
    codebuild: Any,
    build_id: str,
    region: str,
    *,
    poll_seconds: float = POLL_SECONDS,
    on_phase: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll until the build is done; return it when it SUCCEEDED, else raise BuildFailed.

    `on_phase` hears each new current phase (QUEUED, PROVISIONING, ..., BUILD, COMPLETED).
    """
    seen: str | None = None
    unseen = 0
    while True:
        builds = codebuild.batch_get_builds(ids=[build_id])["builds"]
        if not builds:
            # A build started a moment ago may not be readable yet (eventual consistency).
            unseen += 1
            if unseen > _UNSEEN_POLLS:
                raise RuntimeError(f"CodeBuild does not know build {build_id} (BatchGetBuilds: not found)")
            sleep(poll_seconds)
            continue
        build = builds[0]
        phase = build.get("currentPhase")
        if on_phase is not None and phase and phase != seen:
            on_phase(phase)
        seen = phase
        status = build.get("buildStatus")
        if status == "SUCCEEDED":
            return build
        if status in DONE_STATUSES:
            failed, reason = failed_phase(build)
            link = log_link(build, region)
            detail = f": {reason}" if reason else ""
            raise BuildFailed(
                f"CodeBuild build {build_id} {status} in phase {failed}{detail}. Logs: {link}",
                build_id,
                failed,
                link,
            )
        sleep(poll_seconds)


def stop_build(codebuild: Any, build_id: str) -> None:
    """Stop a build (best effort: it may have just finished)."""
    try:
        codebuild.stop_build(id=build_id)
    except Exception:
        pass  # a courtesy on the way out: the error that got us here is the one to report
