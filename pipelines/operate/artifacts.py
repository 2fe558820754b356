"""A finished training job's artifacts in S3: the model it produced and the exit record of a failed command."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from steps.common.aws import client
from steps.train.job.outputs import EXIT_RECORD


def _s3_object(session: Any, uri: str) -> bytes | None:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    try:
        return bytes(client(session, "s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise


def training_exit_code(session: Any, job: dict[str, Any]) -> int | None:
    """The training command's exit code from the job's output data (`cvl-exit.json` in output.tar.gz,
    written by the entry point when the command fails); None when the job left no record."""
    output = str(job.get("OutputDataConfig", {}).get("S3OutputPath", "")).rstrip("/")
    data = _s3_object(session, f"{output}/{job['TrainingJobName']}/output/output.tar.gz") if output else None
    if data is None:
        return None
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = next((m for m in archive.getmembers() if m.name.lstrip("./") == EXIT_RECORD), None)
        handle = archive.extractfile(member) if member else None
        if handle is None:
            return None
        code = json.loads(handle.read()).get("exit_code")
    return code if isinstance(code, int) and code > 0 else None


def download_model(session: Any, job: dict[str, Any], destination: Path) -> Path:
    """Download and unpack the training job's model.tar.gz into `destination/model`."""
    body = _s3_object(session, job["ModelArtifacts"]["S3ModelArtifacts"])
    if body is None:
        raise FileNotFoundError(
            f"the model artifacts {job['ModelArtifacts']['S3ModelArtifacts']} are missing"
        )
    model = destination / "model"
    model.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        archive.extractall(model, filter="data")  # refuses absolute paths, `..` and device files
    return model
