"""BuildImage: the image for a packed context, from ECR when its tag exists, else built by CodeBuild.

Used by `python -m pipelines.build` on the user's machine and by the BuildImage job in the pipeline.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from steps.build_image.job import codebuild, ecr
from steps.build_image.job.build_facts import BuildFacts
from steps.build_image.job.context import BuildContext, PackedContext, image_tag
from steps.common.aws import client
from steps.common.limits import POLL_SECONDS
from steps.common.s3 import object_exists


class ContextRef(NamedTuple):
    """A build context already in S3 (the pipeline's case): its URI and sha256."""

    uri: str
    digest: str


class BuildResult(NamedTuple):
    """The image to train with; `build_id` and `log_link` are None when it came from the cache."""

    image_uri: str
    cached: bool
    build_id: str | None
    log_link: str | None = None


class ContextMissing(RuntimeError):
    """The context the pipeline was compiled with is not in S3 (deleted since the upsert)."""


def ensure_infrastructure(session: Any, facts: BuildFacts) -> list[str]:
    """Create what builds of `facts.repository` need and is missing; return what was created or updated.

    The CodeBuild project and its service role (IAM: the user's credentials, so only the user's machine
    calls this) and the ECR repository (scan on push, lifecycle policy). Idempotent.
    """
    return ensure_project(session, facts) + ensure_repository(session, facts)


def ensure_project(session: Any, facts: BuildFacts) -> list[str]:
    """The CodeBuild project and its service role for `facts`' region and bucket; what changed."""
    return codebuild.ensure_project(session, facts)


def ensure_repository(session: Any, facts: BuildFacts) -> list[str]:
    """The example's ECR repository (scan on push, lifecycle policy, tags); what changed."""
    if ecr.ensure_repository(client(session, "ecr"), facts.repository, tags=facts.tags):
        return [f"ECR repository {facts.repository}"]
    return []


class SharedInfrastructure:
    """`ensure_infrastructure` and `upload_context` for the many pipelines of one upsert, from many
    threads: the project and its role once per region and bucket, each repository and each build context
    once (presets of one example share them).

    A failed attempt is not remembered, so the next pipeline tries again and reports its own error.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._done: dict[Hashable, list[str]] = {}

    def _once(self, key: Hashable, call: Callable[[], list[str]]) -> list[str]:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._done:
                self._done[key] = call()
                return self._done[key]
        return []  # done by an earlier pipeline: nothing changed now

    def ensure(self, session: Any, facts: BuildFacts) -> list[str]:
        """What `ensure_infrastructure` returns, doing each part at most once per instance."""
        project_key = ("project", facts.project, facts.region, facts.account, facts.bucket)
        repository_key = ("repository", facts.repository, facts.region, facts.account)
        changed = self._once(project_key, lambda: ensure_project(session, facts))
        return changed + self._once(repository_key, lambda: ensure_repository(session, facts))

    def upload(self, session: Any, facts: BuildFacts, context: BuildContext) -> None:
        """`upload_context`, checked (and packed, when missing) at most once per context and bucket."""
        key = ("context", facts.bucket, facts.context_key(context.digest))
        self._once(key, lambda: [upload_context(session, facts, context)])


def upload_context(session: Any, facts: BuildFacts, context: BuildContext | PackedContext) -> str:
    """Put the context zip at its content-addressed key unless it is there already (a `BuildContext` is
    packed only then); return its S3 URI. `ContextChanged` when its files changed since their digest."""
    s3 = client(session, "s3")
    key = facts.context_key(context.digest)
    if not object_exists(s3, facts.bucket, key):
        packed = context.pack() if isinstance(context, BuildContext) else context
        # Managed transfer: multipart above 8 MB, so a retry resends a part, not the whole context.
        s3.upload_fileobj(
            io.BytesIO(packed.data),
            facts.bucket,
            key,
            ExtraArgs={"ContentType": "application/zip", "Metadata": {"context-digest": context.digest}},
        )
    return facts.context_uri(context.digest)


def _check_context(session: Any, facts: BuildFacts, context: ContextRef) -> None:
    expected = facts.context_uri(context.digest)
    if context.uri != expected:
        raise ContextMissing(
            f"context {context.uri} is not where digest {context.digest[:12]}... belongs ({expected}): "
            "the pipeline definition is inconsistent; run `python -m pipelines.upsert` again"
        )
    if not object_exists(client(session, "s3"), facts.bucket, facts.context_key(context.digest)):
        raise ContextMissing(
            f"build context {context.uri} is missing: run `python -m pipelines.upsert` again to upload it"
        )


def build_image(
    session: Any,
    facts: BuildFacts,
    context: BuildContext | PackedContext | ContextRef,
    *,
    poll_seconds: float = POLL_SECONDS,
    on_event: Callable[[str], None] | None = None,
    attempt: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BuildResult:
    """Return the image for `context`: cached when `<repository>:<tag>` exists, else build it and wait.

    A BuildContext or PackedContext is uploaded first (unless already in S3); a ContextRef must already
    be there.
    The repository must exist (`ensure_infrastructure` makes it: the execution role cannot). Raises
    BuildFailed, BuildRefused, ProjectMissing, RepositoryMissing or ContextMissing.
    Interrupted while waiting (Ctrl-C, or SIGTERM turned into an exception), it stops the build.
    """
    say = on_event or (lambda _message: None)
    tag = image_tag(context.digest)
    image_uri = facts.image_uri(tag)
    if ecr.image_exists(client(session, "ecr"), facts.repository, tag, facts.region):
        say(f"{image_uri} exists: no build needed")
        return BuildResult(image_uri, True, None)

    if isinstance(context, (BuildContext, PackedContext)):
        uploaded = upload_context(session, facts, context)
        say(f"context in {uploaded} ({context.bytes_in} bytes in {context.files} files)")
    else:
        _check_context(session, facts, context)

    codebuild_client = client(session, "codebuild")
    build_id = codebuild.start_build(codebuild_client, facts, digest=context.digest, tag=tag, attempt=attempt)
    say(f"CodeBuild build {build_id} started for {image_uri}")
    try:
        build = codebuild.wait_for_build(
            codebuild_client,
            build_id,
            facts.region,
            poll_seconds=poll_seconds,
            on_phase=lambda phase: say(f"build phase {phase}"),
            sleep=sleep,
        )
    except (KeyboardInterrupt, SystemExit):
        codebuild.stop_build(codebuild_client, build_id)
        raise
    return BuildResult(image_uri, False, build_id, codebuild.log_link(build, facts.region))
