"""Compiling many pipelines: in this process, or in a pool of processes when there are enough of them.

`upsert` (the pipelines whose fingerprint changed) and `upsert --dry-run` (those whose written definition
is stale) both compile through here. Offline, like `compile_staged`: no network call.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from pipelines.define.compile import CompiledPipeline, compile_staged
from pipelines.define.staging import Staged
from pipelines.define.validate import validate_definition
from steps.common.aws import aws_session

_PER_COMPILER = 8
_WORKER_SESSION: Any = None


def compile_and_validate(staged: Staged, boto_session: Any | None = None) -> CompiledPipeline:
    """Compile a staged preset and check every step against the SageMaker API model."""
    compiled = compile_staged(staged, boto_session=boto_session)
    client = compiled.pipeline.sagemaker_session.sagemaker_client
    validate_definition(compiled.definition, client.meta.service_model)
    return compiled


def compile_all(staged: list[Staged], region: str) -> list[CompiledPipeline]:
    """Compile and validate `staged`, in order: here on one boto3 session (botocore parses the SageMaker
    model once a session), or on one process per core when each gets enough pipelines to repay its own
    SDK import (~3 s of CPU, against ~0.3 s a compile); then the SDK objects stay in the workers."""
    workers = max(1, min(os.cpu_count() or 1, len(staged) // _PER_COMPILER))
    if workers == 1:
        session = aws_session(region)
        return [compile_and_validate(s, session) for s in staged]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as compilers:
        return list(compilers.map(compile_detached, staged, chunksize=4))


def compile_detached(staged: Staged) -> CompiledPipeline:
    """Compile and validate in a pool worker; the SDK object stays behind (it does not pickle)."""
    global _WORKER_SESSION
    if _WORKER_SESSION is None:
        _WORKER_SESSION = aws_session(staged.target.region)
    return compile_and_validate(staged, _WORKER_SESSION)._replace(pipeline=None)
