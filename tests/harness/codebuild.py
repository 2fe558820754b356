"""CodeBuild builds for the in-process moto server, shaped as the CodeBuild API documents them.

moto 5.2's CodeBuild ignores every StartBuild override (source, buildspec, environment variables,
idempotency token), answers with a fixed CodeCommit source in eu-west-2, and reports every build
SUCCEEDED on the first BatchGetBuilds (adding nine more phases on each call). `patched_codebuild()`
replaces StartBuild, BatchGetBuilds and StopBuild so that a test can:

- read each StartBuild request as sent (`requests`) and the context zip the build would download;
- make the next build end FAILED/FAULT/TIMED_OUT in a given phase, with `contexts`, and a `logs`
  block (`groupName`, `streamName`, `deepLink`, optionally without the deep link);
- make StartBuild refuse with AccountLimitExceededException (a new account's build quota);
- see a succeeded build "push" its image: the harness puts `<repository>:<tag>` into moto's ECR.

A build runs for `polls` BatchGetBuilds calls: in phase BUILD before the last, done on the last.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import uuid
import zipfile
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.codebuild.exceptions import InvalidInputException, ResourceNotFoundException
from moto.codebuild.models import codebuild_backends
from moto.codebuild.responses import CodeBuildResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.ecr.models import ecr_backends
from moto.s3.models import s3_backends

PHASES = (
    "SUBMITTED",
    "QUEUED",
    "PROVISIONING",
    "DOWNLOAD_SOURCE",
    "INSTALL",
    "PRE_BUILD",
    "BUILD",
    "POST_BUILD",
    "UPLOAD_ARTIFACTS",
    "FINALIZING",
)
_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass
class Outcome:
    """How one build ends: `status` SUCCEEDED, or FAILED/FAULT/TIMED_OUT in `phase` with `message`."""

    status: str = "SUCCEEDED"
    phase: str = "BUILD"
    message: str = "Error while executing command: docker build . Reason: exit status 1"
    status_code: str = "COMMAND_EXECUTION_ERROR"
    deep_link: bool = True
    polls: int = 2


@dataclass
class FakeBuild:
    """One build's state; `request` is the StartBuild body that started it."""

    build_id: str
    region: str
    account: str
    request: dict[str, Any]
    outcome: Outcome
    started: datetime.datetime
    polls: int = 0
    stopped: bool = False
    context_files: list[str] = field(default_factory=list)
    dockerfile: str = ""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class FakeCodeBuild:
    """What the patched CodeBuild saw and will do; see the module docstring."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.builds: dict[str, FakeBuild] = {}
        self.outcomes: deque[Outcome] = deque()
        self.stopped: list[str] = []
        self.refusals: deque[str] = deque()
        self._tokens: dict[str, tuple[str, str]] = {}

    def refuse_next(self, message: str = "Cannot have more than 0 builds in queue for the account") -> None:
        """The next StartBuild fails with AccountLimitExceededException, as in a new account."""
        self.refusals.append(message)

    def will_end(self, outcome: Outcome) -> None:
        """The next started build ends as `outcome` (queued: one outcome per build)."""
        self.outcomes.append(outcome)

    def fail_next(self, phase: str = "BUILD", message: str | None = None, **kwargs: Any) -> None:
        """The next started build fails in `phase` with `message`."""
        outcome = Outcome(status=kwargs.pop("status", "FAILED"), phase=phase, **kwargs)
        if message is not None:
            outcome.message = message
        self.will_end(outcome)

    @property
    def started(self) -> list[FakeBuild]:
        """Builds started, oldest first."""
        return list(self.builds.values())

    # --- handlers, called on the moto server's thread ---

    def start_build(self, response: CodeBuildResponse) -> ActionResult:
        body = json.loads(response.body)
        self.requests.append(body)
        account, region = response.current_account, response.region
        project = body["projectName"]
        if project not in codebuild_backends[account][region].codebuild_projects:
            raise ResourceNotFoundException(
                f"Project cannot be found: arn:aws:codebuild:{region}:{account}:project/{project}"
            )
        if self.refusals:
            raise JsonRESTError("AccountLimitExceededException", self.refusals.popleft())
        token = body.get("idempotencyToken")
        fingerprint = json.dumps({k: v for k, v in body.items() if k != "idempotencyToken"}, sort_keys=True)
        if token and token in self._tokens:
            build_id, seen = self._tokens[token]
            if seen != fingerprint:
                raise InvalidInputException("Idempotency token reused with different parameters")
            return ActionResult({"build": self._describe(self.builds[build_id])})
        build = FakeBuild(
            build_id=f"{project}:{uuid.uuid4()}",
            region=region,
            account=account,
            request=body,
            outcome=self.outcomes.popleft() if self.outcomes else Outcome(),
            started=_now(),
        )
        self._download_source(build)
        self.builds[build.build_id] = build
        if token:
            self._tokens[token] = (build.build_id, fingerprint)
        return ActionResult({"build": self._describe(build)})

    def batch_get_builds(self, response: CodeBuildResponse) -> ActionResult:
        ids = json.loads(response.body)["ids"]
        found = [self.builds[i] for i in ids if i in self.builds]
        for build in found:
            build.polls += 1
            if build.polls == build.outcome.polls and build.outcome.status == "SUCCEEDED":
                self._push(build)
        return ActionResult(
            {
                "builds": [self._describe(build) for build in found],
                "buildsNotFound": [i for i in ids if i not in self.builds],
            }
        )

    def stop_build(self, response: CodeBuildResponse) -> ActionResult:
        build_id = json.loads(response.body)["id"]
        if build_id not in self.builds:
            raise ResourceNotFoundException(f"Build {build_id} does not exist")
        build = self.builds[build_id]
        if not self._done(build):
            build.stopped = True
            build.outcome = Outcome(
                status="STOPPED", phase="BUILD", message="Build was stopped", status_code=""
            )
            build.polls = build.outcome.polls
        self.stopped.append(build_id)
        return ActionResult({"build": self._describe(build)})

    # --- what a real build would do ---

    def _download_source(self, build: FakeBuild) -> None:
        """Read the S3 source as CodeBuild's DOWNLOAD_SOURCE phase would; a missing one fails there."""
        bucket, _, key = build.request.get("sourceLocationOverride", "").partition("/")
        try:
            found = s3_backends[build.account]["aws"].get_object(bucket, key)
        except Exception:  # moto raises for a missing bucket, returns None for a missing key
            found = None
        if found is None:
            build.outcome = Outcome(
                status="FAILED",
                phase="DOWNLOAD_SOURCE",
                message=f"NoSuchKey: The specified key does not exist. for primary source {bucket}/{key}",
                status_code="CLIENT_ERROR",
                polls=build.outcome.polls,
            )
            return
        with zipfile.ZipFile(io.BytesIO(found.value)) as archive:
            build.context_files = archive.namelist()
            if "Dockerfile" in build.context_files:
                build.dockerfile = archive.read("Dockerfile").decode()

    def _push(self, build: FakeBuild) -> None:
        variables = {v["name"]: v["value"] for v in build.request.get("environmentVariablesOverride", [])}
        repository, tag = variables["IMAGE_URI"].split("/", 1)[1].rsplit(":", 1)
        backend = ecr_backends[build.account][build.region]
        if repository not in backend.repositories:
            build.outcome = Outcome(
                status="FAILED",
                message=f"name unknown: The repository with name '{repository}' does not exist",
            )
            return
        config = hashlib.sha256(f"{repository}:{tag}:{build.build_id}".encode()).hexdigest()
        manifest = {
            "schemaVersion": 2,
            "mediaType": _MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": f"sha256:{config}",
            },
            "layers": [],
        }
        backend.put_image(repository, json.dumps(manifest), tag, _MANIFEST_TYPE)

    @staticmethod
    def _done(build: FakeBuild) -> bool:
        return build.polls >= build.outcome.polls

    def _describe(self, build: FakeBuild) -> dict[str, Any]:
        """The build as BatchGetBuilds returns it at this point of its life."""
        outcome = build.outcome
        project = build.request["projectName"]
        stream = build.build_id.split(":", 1)[1]
        group = f"/aws/codebuild/{project}"
        described: dict[str, Any] = {
            "id": build.build_id,
            "arn": f"arn:aws:codebuild:{build.region}:{build.account}:build/{build.build_id}",
            "projectName": project,
            "startTime": build.started,
            "source": {
                "type": build.request.get("sourceTypeOverride", "S3"),
                "location": build.request.get("sourceLocationOverride", ""),
                "buildspec": build.request.get("buildspecOverride", ""),
            },
            "environment": {
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_MEDIUM",
                "privilegedMode": bool(build.request.get("privilegedModeOverride", True)),
                "environmentVariables": build.request.get("environmentVariablesOverride", []),
            },
        }
        if build.polls == 0:
            described |= {"currentPhase": "QUEUED", "buildStatus": "IN_PROGRESS", "buildComplete": False}
            described["phases"] = [self._phase("SUBMITTED", "SUCCEEDED", build), {"phaseType": "QUEUED"}]
            return described
        log_group_arn = f"arn:aws:logs:{build.region}:{build.account}:log-group:{group}"
        described["logs"] = {
            "groupName": group,
            "streamName": stream,
            "cloudWatchLogsArn": f"{log_group_arn}:log-stream:{stream}",
        }
        if outcome.deep_link:
            described["logs"]["deepLink"] = (
                f"https://console.aws.amazon.com/cloudwatch/home?region={build.region}"
                f"#logEvent:group={group};stream={stream}"
            )
        if not self._done(build):
            until = PHASES.index("BUILD")
            phases = [self._phase(p, "SUCCEEDED", build) for p in PHASES[:until]]
            described |= {"currentPhase": "BUILD", "buildStatus": "IN_PROGRESS", "buildComplete": False}
            described["phases"] = [*phases, {"phaseType": "BUILD", "startTime": build.started}]
            return described
        described |= {"currentPhase": "COMPLETED", "buildStatus": outcome.status, "buildComplete": True}
        described["endTime"] = _now()
        if outcome.status == "SUCCEEDED":
            phases = [self._phase(p, "SUCCEEDED", build) for p in PHASES]
        else:
            failed_at = PHASES.index(outcome.phase)
            phases = [self._phase(p, "SUCCEEDED", build) for p in PHASES[:failed_at]]
            phase_status = "FAILED" if outcome.status == "FAULT" else outcome.status
            phases.append(
                self._phase(outcome.phase, phase_status, build, outcome.status_code, outcome.message)
            )
            # CodeBuild still runs POST_BUILD after a failed BUILD, then finalizes.
            after = ["POST_BUILD"] if outcome.phase == "BUILD" else []
            phases += [self._phase(p, "SUCCEEDED", build) for p in [*after, "FINALIZING"]]
        described["phases"] = [*phases, {"phaseType": "COMPLETED", "startTime": build.started}]
        return described

    @staticmethod
    def _phase(
        phase: str, status: str, build: FakeBuild, code: str = "", message: str = ""
    ) -> dict[str, Any]:
        return {
            "phaseType": phase,
            "phaseStatus": status,
            "startTime": build.started,
            "endTime": build.started,
            "durationInSeconds": 0 if phase in ("SUBMITTED", "QUEUED") else 3,
            "contexts": [{"statusCode": code, "message": message}],
        }


@contextmanager
def patched_codebuild() -> Iterator[FakeCodeBuild]:
    """Serve StartBuild, BatchGetBuilds and StopBuild from a FakeCodeBuild for the block's duration."""
    fake = FakeCodeBuild()
    with (
        mock.patch.object(CodeBuildResponse, "start_build", lambda self: fake.start_build(self)),
        mock.patch.object(CodeBuildResponse, "batch_get_builds", lambda self: fake.batch_get_builds(self)),
        mock.patch.object(CodeBuildResponse, "stop_build", lambda self: fake.stop_build(self)),
    ):
        yield fake
