"""The training entry point: turns a SageMaker training job's config into the example's command.

Baked into the training image as /opt/cvl/entry.py (its ENTRYPOINT) and run by `pipelines.run --local`.
Standard library only, Python >= 3.8: it runs with whatever Python the example's image has.

Reads `<ml>/input/config/hyperparameters.json` (`cvl_preset`, `cvl_extra_args`, one value per preset
hyperparameter) and `resourceconfig.json`; runs the prepare commands and the command in the code dir
(or the preset's `workdir` in it) with SageMaker's `SM_*` variables and CVL's (`CVL_OUTPUTS` in the
model dir, `CVL_INPUTS` at the input channel, the code dir first on `PYTHONPATH`); links the checkpoint
folder to `<ml>/checkpoints`, adding the resume switch only when a checkpoint is there; copies the kept
folders, and every file the command created or changed in the code dir, into the model dir; on failure writes
`<ml>/output/failure` and exits with the command's code. `<ml>` is `CVL_ML_ROOT` (default /opt/ml),
the code dir `CVL_CODE_DIR` (default: the working directory).

Processes: one per GPU of the host (`CVL_NUM_GPUS`, else `nvidia-smi -L`), at least one;
`CVL_NUM_PROCESSES` overrides the count (the local runner uses it to play several instances on one
machine). When hosts x processes > 1 the command runs under `python -m torch.distributed.run`.
"""

from __future__ import annotations

import base64
import collections
import datetime
import glob
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

LOG_PREFIX = "cvl-entry:"
FAILURE_LIMIT = 1024  # SageMaker truncates FailureReason at 1024 characters
TAIL_LINES = 40
SHOWN_COMMAND_LIMIT = 600  # of FailureReason's 1024 characters; the rest is the log's tail
# Written to <ml>/output/data (uploaded as output.tar.gz) when the job fails: the exit code as data.
EXIT_RECORD = "cvl-exit.json"
DEFAULT_MASTER_PORT = "29500"

_child: subprocess.Popen | None = None
_stopped_by: int | None = None
_masked: list[bytes] = []  # secret values, replaced by *** in everything the commands print


def log(message: str) -> None:
    """Print one line of the entry point's own output, marked so it stands out in the job log."""
    print(f"{LOG_PREFIX} {message}", flush=True)


def render_value(raw: Any, default: Any) -> str:
    """A hyperparameter value as the command expects it, typed by the preset's default.

    SageMaker hands every value over as a string; a bool parameter may arrive as "true"/"false"
    (pipeline JSON) or "True"/"False", and is passed on as Python's `True`/`False`.
    """
    text = raw if isinstance(raw, str) else json.dumps(raw)
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return "True"
        if lowered in ("false", "0", "no"):
            return "False"
    return text


def hyperparameter_args(preset: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """One argument per preset hyperparameter (preset order), in the preset's argument style."""
    args: list[str] = []
    for name, default in preset.get("hyperparameters", {}).items():
        value = render_value(values.get(name, default), default)
        if preset.get("argument_style", "--key=value") == "--key value":
            args += [f"--{name}", value]
        else:
            args.append(f"--{name}={value}")
    return args


def resume_args(preset: dict[str, Any], checkpoint_dir: str) -> list[str]:
    """The preset's resume switch when its resume marker (a glob) matches in the checkpoint folder."""
    checkpoint = preset.get("checkpoint")
    if not checkpoint or not checkpoint.get("resume_args"):
        return []
    found = glob.glob(os.path.join(checkpoint_dir, checkpoint.get("resume_marker") or "*"))
    if not found:
        return []
    log(f"checkpoint {os.path.basename(sorted(found)[0])} found: resuming with {checkpoint['resume_args']}")
    return list(checkpoint["resume_args"])


def link_checkpoints(preset: dict[str, Any], code_dir: str, checkpoint_dir: str) -> None:
    """Make `<code>/<checkpoint.dir>` a symlink to the folder SageMaker syncs (`<ml>/checkpoints`)."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    checkpoint = preset.get("checkpoint")
    if not checkpoint:
        return
    link = os.path.join(code_dir, checkpoint["dir"])
    if os.path.islink(link):
        os.unlink(link)
    elif os.path.exists(link):
        # A folder shipped in the image would shadow the synced checkpoints; keep it, out of the way.
        aside = f"{link}.from-image-{int(time.time())}"
        os.rename(link, aside)
        log(f"{checkpoint['dir']} existed in the image; moved to {os.path.basename(aside)}")
    os.makedirs(os.path.dirname(link) or ".", exist_ok=True)
    os.symlink(checkpoint_dir, link, target_is_directory=True)


def count_gpus(environ: dict[str, str]) -> int:
    """GPUs of this host: `CVL_NUM_GPUS`, else the lines of `nvidia-smi -L`, else 0."""
    if environ.get("CVL_NUM_GPUS"):
        return int(environ["CVL_NUM_GPUS"])
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))


def read_resources(root: str) -> dict[str, Any]:
    """`resourceconfig.json` (hosts, current_host), or a single `algo-1` host when it is absent."""
    path = os.path.join(root, "input", "config", "resourceconfig.json")
    if os.path.exists(path):
        with open(path) as handle:
            return json.load(handle)
    return {"current_host": "algo-1", "hosts": ["algo-1"]}


def distributed_command(command: list[str], resources: dict[str, Any], procs: int, port: str) -> list[str]:
    """`command` under torchrun when hosts x processes > 1, else `command` unchanged."""
    hosts = list(resources["hosts"])
    if len(hosts) * procs <= 1:
        return command
    # One host: rendezvous on loopback, so a local run needs no resolvable host name.
    master = hosts[0] if len(hosts) > 1 else "127.0.0.1"
    launcher = [
        "-m",
        "torch.distributed.run",
        f"--nnodes={len(hosts)}",
        f"--node_rank={hosts.index(resources['current_host'])}",
        f"--nproc_per_node={procs}",
        f"--master_addr={master}",
        f"--master_port={port}",
    ]
    if os.path.basename(command[0]).startswith("python"):
        return [command[0], *launcher, *command[1:]]
    return [sys.executable, *launcher, "--no-python", *command]


def sm_environment(
    root: str, resources: dict[str, Any], gpus: int, values: dict[str, Any], preset: dict[str, Any]
) -> dict[str, str]:
    """The `SM_*` variables SageMaker's training toolkit sets, for the tree rooted at `root`."""
    data_dir = os.path.join(root, "input", "data")
    channels = sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else []
    hps = {name: values.get(name, default) for name, default in preset.get("hyperparameters", {}).items()}
    env = {
        "SM_MODEL_DIR": os.path.join(root, "model"),
        "SM_OUTPUT_DIR": os.path.join(root, "output"),
        "SM_OUTPUT_DATA_DIR": os.path.join(root, "output", "data"),
        "SM_OUTPUT_INTERMEDIATE_DIR": os.path.join(root, "output", "intermediate"),
        "SM_INPUT_DIR": os.path.join(root, "input"),
        "SM_INPUT_CONFIG_DIR": os.path.join(root, "input", "config"),
        "SM_CHECKPOINT_DIR": os.path.join(root, "checkpoints"),
        "SM_CHANNELS": json.dumps(channels),
        "SM_HPS": json.dumps(hps),
        "SM_HOSTS": json.dumps(list(resources["hosts"])),
        "SM_CURRENT_HOST": resources["current_host"],
        "SM_CURRENT_INSTANCE_TYPE": str(resources.get("current_instance_type", "local")),
        "SM_NETWORK_INTERFACE_NAME": str(resources.get("network_interface_name", "eth0")),
        "SM_NUM_GPUS": str(gpus),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_RESOURCE_CONFIG": json.dumps(resources),
    }
    for channel in channels:
        env[f"SM_CHANNEL_{channel.upper().replace('-', '_')}"] = os.path.join(data_dir, channel)
    return env


# ---- secrets: Secrets Manager values read at job start, set for the commands only ----
# The preset names secrets by id (`secrets: {ENV_NAME: secret-id}`); the values never appear in the
# job's configuration, in the entry point's own environment, or in its log (the commands' output is
# masked). With boto3 importable, its credential chain is used (the user's profile in `--local`);
# without it (many example images), stdlib SigV4 with the environment's keys or the container
# credentials endpoint SageMaker provides to training jobs.

CONTAINER_CREDENTIALS_HOST = "http://169.254.170.2"
SECRET_ATTEMPTS = 4


class SecretError(Exception):
    """A secret could not be read; the message names the secret and AWS's error, never a value."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def aws_region(environ: dict[str, str], secret_id: str = "") -> str:
    """The secret's region: its ARN's, else AWS_REGION / AWS_DEFAULT_REGION, else the training job's
    (SageMaker sets TRAINING_JOB_ARN in training containers)."""
    if secret_id.startswith("arn:"):
        return secret_id.split(":")[3]
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    job_arn = environ.get("TRAINING_JOB_ARN", "")
    if not region and job_arn.startswith("arn:") and job_arn.count(":") >= 5:
        region = job_arn.split(":")[3]
    if not region:
        raise SecretError("no AWS region: set AWS_DEFAULT_REGION or name the secret by its ARN")
    return region


def aws_credentials(environ: dict[str, str]) -> dict[str, str]:
    """AccessKeyId, SecretAccessKey and Token from the environment or the container credentials endpoint."""
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return {
            "AccessKeyId": environ["AWS_ACCESS_KEY_ID"],
            "SecretAccessKey": environ["AWS_SECRET_ACCESS_KEY"],
            "Token": environ.get("AWS_SESSION_TOKEN", ""),
        }
    headers = {}
    if environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        url = CONTAINER_CREDENTIALS_HOST + environ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
    elif environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        url = environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")
        if environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
            with open(environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as handle:
                token = handle.read().strip()
        if token:
            headers["Authorization"] = token
    else:
        raise SecretError(
            "no AWS credentials: neither AWS_ACCESS_KEY_ID nor a container credentials endpoint"
        )
    request = urllib.request.Request(url, headers=headers)
    # bandit B310 (URL schemes): the URL is the credentials endpoint the container's environment names.
    with urllib.request.urlopen(request, timeout=10) as answer:  # nosec B310
        found = json.loads(answer.read().decode("utf-8"))
    return {key: str(found.get(key) or "") for key in ("AccessKeyId", "SecretAccessKey", "Token")}


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sigv4_headers(
    url: str,
    body: bytes,
    headers: dict[str, str],
    credentials: dict[str, str],
    region: str,
    now: datetime.datetime,
) -> dict[str, str]:
    """`headers` plus the SigV4 signature (service `secretsmanager`) of a POST of `body` to `url`."""
    parsed = urllib.parse.urlsplit(url)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    signed = {key.lower(): value.strip() for key, value in headers.items()}
    signed.update({"host": parsed.netloc, "x-amz-date": stamp})
    if credentials.get("Token"):
        signed["x-amz-security-token"] = credentials["Token"]
    names = ";".join(sorted(signed))
    canonical = "\n".join(
        [
            "POST",
            urllib.parse.quote(parsed.path or "/", safe="/~"),
            parsed.query,
            "".join(f"{name}:{signed[name]}\n" for name in sorted(signed)),
            names,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/secretsmanager/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + credentials["SecretAccessKey"]).encode("utf-8")
    for part in (day, region, "secretsmanager", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    result = dict(headers, **{"X-Amz-Date": stamp})
    if credentials.get("Token"):
        result["X-Amz-Security-Token"] = credentials["Token"]
    result["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials['AccessKeyId']}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return result


def secrets_endpoint(environ: dict[str, str], region: str) -> str:
    """Secrets Manager's endpoint: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL` (as botocore
    reads them), else the region's."""
    override = environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or environ.get("AWS_ENDPOINT_URL")
    if override:
        return override
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://secretsmanager.{region}.{suffix}"


def _secret_text(found: dict[str, Any], secret_id: str) -> str:
    if found.get("SecretString") is not None:
        return str(found["SecretString"])
    binary = found.get("SecretBinary")
    try:
        raw = binary if isinstance(binary, bytes) else base64.b64decode(binary or "")
        return raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise SecretError(f"secret {secret_id} holds binary data, not text: store it as a string") from None


def get_secret_stdlib(secret_id: str, environ: dict[str, str]) -> str:
    """GetSecretValue over HTTPS with SigV4 (stdlib only); retries throttling, 5xx and lost connections."""
    region = aws_region(environ, secret_id)
    url = secrets_endpoint(environ, region)
    body = json.dumps({"SecretId": secret_id}).encode("utf-8")
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.GetSecretValue",
    }
    credentials = aws_credentials(environ)
    for attempt in range(SECRET_ATTEMPTS):
        now = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 (datetime.UTC is 3.11+)
        request = urllib.request.Request(
            url, data=body, method="POST", headers=sigv4_headers(url, body, headers, credentials, region, now)
        )
        try:
            # bandit B310 (URL schemes): an https AWS endpoint, or the AWS_ENDPOINT_URL the user set.
            with urllib.request.urlopen(request, timeout=30) as answer:  # nosec B310
                return _secret_text(json.loads(answer.read().decode("utf-8")), secret_id)
        except urllib.error.HTTPError as error:
            try:
                details = json.loads(error.read().decode("utf-8") or "{}")
            except ValueError:
                details = {}
            code = str(details.get("__type", error.code)).rsplit("#", 1)[-1]
            message = details.get("message") or details.get("Message") or error.reason
            retry = error.code >= 500 or code in ("ThrottlingException", "TooManyRequestsException")
            if not retry or attempt == SECRET_ATTEMPTS - 1:
                raise SecretError(f"secret {secret_id}: {code}: {message}", code) from None
        except (urllib.error.URLError, OSError) as error:
            if attempt == SECRET_ATTEMPTS - 1:
                raise SecretError(
                    f"secret {secret_id}: Secrets Manager unreachable at {url}: {error}"
                ) from None
        time.sleep(min(2**attempt, 8))
    raise SecretError(f"secret {secret_id}: no answer")  # not reached: the last attempt returns or raises


def get_secret_boto3(secret_id: str, environ: dict[str, str]) -> str:
    """GetSecretValue with boto3 (its full credential chain: profiles, SSO, container, instance)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        region: str | None = aws_region(environ, secret_id)
    except SecretError:
        region = None  # the profile may name one
    config = Config(retries={"mode": "standard", "max_attempts": SECRET_ATTEMPTS})
    try:
        client = boto3.session.Session().client("secretsmanager", region_name=region, config=config)
        return _secret_text(client.get_secret_value(SecretId=secret_id), secret_id)
    except ClientError as error:
        details = error.response.get("Error", {})
        code = str(details.get("Code"))
        raise SecretError(f"secret {secret_id}: {code}: {details.get('Message')}", code) from None
    except BotoCoreError as error:
        raise SecretError(f"secret {secret_id}: {error}") from None


def read_secrets(preset: dict[str, Any], environ: dict[str, str]) -> dict[str, str]:
    """The preset's secrets as variables (name -> value), each value also masked in the commands' output.

    A secret in `optional_secrets` that cannot be read (it does not exist, or there are no credentials)
    leaves its variable unset, as a CVlization script that forwards a host variable only when it is set
    (`${WANDB_API_KEY:+-e WANDB_API_KEY}`) does; the log line says why.
    """
    secrets = preset.get("secrets") or {}
    optional = set(preset.get("optional_secrets") or [])
    if not secrets:
        return {}
    try:
        import boto3  # noqa: F401  (only to learn whether the image has it)

        get = get_secret_boto3
    except ImportError:
        get = get_secret_stdlib
    values = {}
    for name, secret_id in sorted(secrets.items()):
        try:
            values[name] = get(secret_id, environ)
        except SecretError as error:
            if name not in optional:
                raise
            # Optional (forwarded only when set, on the host): also without credentials, as in a
            # `run --local` with no AWS account.
            log(f"{error}: {name} left unset")
            continue
        if values[name]:
            _masked.append(values[name].encode("utf-8"))
        log(f"secret {name} <- {secret_id}")
    return values


def mask(raw: bytes) -> bytes:
    """`raw` with every secret value replaced by `***`."""
    for value in _masked:
        raw = raw.replace(value, b"***")
    return raw


def _forward(signum: int, _frame: Any) -> None:
    global _stopped_by
    # A second stop request means the first was not enough: kill the command outright.
    forwarded = signal.SIGKILL if _stopped_by is not None else signum
    _stopped_by = _stopped_by or signum
    if _child is not None and _child.poll() is None:
        try:
            os.killpg(_child.pid, forwarded)
        except (ProcessLookupError, PermissionError):
            pass


def stream(command: list[str], cwd: str, env: dict[str, str]) -> tuple[int, list[str]]:
    """Run `command`, copying its output (stdout and stderr) to ours line by line.

    Returns its exit code (128 + N when killed by signal N) and the last lines it printed.
    """
    global _child
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    # Its own process group, so a forwarded signal reaches torchrun's workers and shell children too.
    _child = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=os.setpgrp
    )
    assert _child.stdout is not None
    for raw in iter(_child.stdout.readline, b""):
        raw = mask(raw)
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
        tail.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
    code = _child.wait()
    _child = None
    return (128 - code if code < 0 else code), list(tail)


def shown(command: list[str], limit: int = SHOWN_COMMAND_LIMIT) -> str:
    """The whole command as run (the bad argument is often the last one), its middle elided when long."""
    text = " ".join(command)
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + " ... " + text[-(limit - head - 5) :]


def failure_reason(what: str, code: int, tail: list[str]) -> str:
    """`what exited with code N` plus as many of the last log lines as fit SageMaker's limit."""
    head = f"{what} exited with code {code}"
    if _stopped_by is not None:
        head += f" (stopped by {signal.Signals(_stopped_by).name})"
    lines: list[str] = []
    budget = FAILURE_LIMIT - len(head) - 16
    for line in reversed(tail):
        if len(line) + 1 > budget:
            if not lines:  # the last line alone is too long: keep its end, where errors usually are
                lines.append("..." + line[-(budget - 4) :])
            break
        lines.insert(0, line)
        budget -= len(line) + 1
    return "\n".join([head, *lines])


def fail(root: str, reason: str, code: int) -> int:
    """Write `reason` to `<ml>/output/failure` (SageMaker's FailureReason) and `{"exit_code": code}` to
    `<ml>/output/data/cvl-exit.json` (where `run` reads the code), and return `code`."""
    os.makedirs(os.path.join(root, "output", "data"), exist_ok=True)
    with open(os.path.join(root, "output", "failure"), "w") as handle:
        handle.write(reason[:FAILURE_LIMIT])
    with open(os.path.join(root, "output", "data", EXIT_RECORD), "w") as handle:
        json.dump({"exit_code": code}, handle)
    log(reason.splitlines()[0])
    return code


def keep_folders(preset: dict[str, Any], code_dir: str, model_dir: str) -> None:
    """Copy each kept folder of the code dir into the model dir, under its own name."""
    os.makedirs(model_dir, exist_ok=True)
    for folder in preset.get("keep", []):
        source = os.path.join(code_dir, folder)
        if not os.path.isdir(source):
            log(f"warning: kept folder {folder} does not exist; nothing copied")
            continue
        target = os.path.join(model_dir, os.path.basename(folder.rstrip("/")))
        shutil.copytree(source, target, dirs_exist_ok=True)
        log(f"kept {folder} -> {target}")


def cvl_environment(root: str, code_dir: str, environ: dict[str, str]) -> dict[str, str]:
    """CVL's I/O contract: `CVL_OUTPUTS` inside the model dir, `CVL_INPUTS` at the input channel (when
    there is one, or one named `inputs`/`training`), and the code folder (where the shipped `cvlization`
    package is) first on `PYTHONPATH`."""
    outputs = os.path.join(root, "model", "outputs")
    os.makedirs(outputs, exist_ok=True)
    env = {"CVL_OUTPUTS": outputs}
    data_dir = os.path.join(root, "input", "data")
    channels = sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else []
    named = [name for name in ("inputs", "training", "train") if name in channels]
    chosen = channels[0] if len(channels) == 1 else (named[0] if named else None)
    if chosen:
        env["CVL_INPUTS"] = os.path.join(data_dir, chosen)
    existing = environ.get("PYTHONPATH")
    env["PYTHONPATH"] = code_dir + (os.pathsep + existing if existing else "")
    return env


def snapshot(code_dir: str) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file in the code folder, hidden folders and caches left out."""
    files: dict[str, tuple[int, int]] = {}
    for folder, subfolders, names in os.walk(code_dir):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "__pycache__"]
        for name in names:
            path = os.path.join(folder, name)
            try:
                status = os.stat(path)
            except OSError:
                continue
            files[os.path.relpath(path, code_dir)] = (status.st_mtime_ns, status.st_size)
    return files


def keep_changes(before: dict[str, tuple[int, int]], code_dir: str, model_dir: str) -> int:
    """Copy the files the run created or changed in the code folder into the model dir, at the same
    relative path (`artifacts/metrics.json` -> `<model>/artifacts/metrics.json`); returns how many."""
    copied = 0
    for relative, state in snapshot(code_dir).items():
        target = os.path.join(model_dir, relative)
        if before.get(relative) == state or os.path.exists(target):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(code_dir, relative), target)
        copied += 1
    return copied


def main(argv: list[str] | None = None) -> int:
    """Run the training job described by the `/opt/ml` tree; returns the exit code.

    SageMaker starts the image with the argument `train`, which is accepted and ignored.
    """
    root = os.environ.get("CVL_ML_ROOT", "/opt/ml")
    code_dir = os.path.abspath(os.environ.get("CVL_CODE_DIR") or os.getcwd())
    signal.signal(signal.SIGTERM, _forward)
    signal.signal(signal.SIGINT, _forward)
    try:
        with open(os.path.join(root, "input", "config", "hyperparameters.json")) as handle:
            values = json.load(handle)
        preset = json.loads(values.pop("cvl_preset"))
        extra = json.loads(values.pop("cvl_extra_args", None) or "[]")
    except (OSError, KeyError, ValueError) as error:
        return fail(root, f"cvl entry point: unreadable job config: {error!r}", 1)

    resources = read_resources(root)
    gpus = count_gpus(dict(os.environ))
    procs = int(os.environ.get("CVL_NUM_PROCESSES") or max(1, gpus))
    env = dict(os.environ)
    env.update(sm_environment(root, resources, gpus, values, preset))
    env.update(cvl_environment(root, code_dir, env))
    env.update({str(k): str(v) for k, v in preset.get("environment", {}).items() if k not in os.environ})
    env["PYTHONUNBUFFERED"] = "1"
    try:
        env.update(read_secrets(preset, dict(os.environ)))
    except (SecretError, OSError, ValueError) as error:
        return fail(root, f"cvl entry point: {error}", 1)
    work_dir = os.path.join(code_dir, preset.get("workdir") or "")

    for step in preset.get("prepare", []):
        if not os.path.exists(os.path.join(code_dir, step["creates"])):
            log(f"prepare: {' '.join(step['command'])}")
            code, tail = stream(step["command"], work_dir, env)
            if code != 0:
                return fail(root, failure_reason(f"prepare `{' '.join(step['command'])}`", code, tail), code)

    if _stopped_by is not None:
        return fail(root, f"stopped by {signal.Signals(_stopped_by).name} before training", 128 + _stopped_by)
    checkpoint_dir = os.path.join(root, "checkpoints")
    link_checkpoints(preset, code_dir, checkpoint_dir)
    command = list(preset["command"]) + hyperparameter_args(preset, values)
    command += resume_args(preset, checkpoint_dir) + [str(arg) for arg in extra]
    port = os.environ.get("CVL_MASTER_PORT") or DEFAULT_MASTER_PORT
    command = distributed_command(command, resources, procs, port)
    hosts = len(resources["hosts"])
    log(f"{hosts} host(s) x {procs} process(es), {gpus} GPU(s) on {resources['current_host']}")
    log(f"running: {' '.join(command)}")
    before = snapshot(code_dir)
    code, tail = stream(command, work_dir, env)
    if code != 0:
        return fail(root, failure_reason(f"`{shown(command)}`", code, tail), code)
    keep_folders(preset, code_dir, env["SM_MODEL_DIR"])
    changed = keep_changes(before, code_dir, env["SM_MODEL_DIR"])
    if changed:
        log(f"kept {changed} file(s) the run wrote in its folder -> {env['SM_MODEL_DIR']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
