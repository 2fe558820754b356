"""Run a job's process the way a container runs: its own process group, output streamed line by line,
stopped with SIGTERM (what SageMaker sends on StopTrainingJob) and killed if it does not stop."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

TAIL_LINES = 40
STOP_GRACE_SECONDS = 20.0


class Finished(NamedTuple):
    """How a job process ended: exit code (128 + N when killed by signal N), last lines, timed out."""

    code: int
    tail: list[str]
    timed_out: bool


def stop(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the process group, then, if it is still there after `grace` seconds, SIGTERM again
    (our entry point answers a repeated signal with SIGKILL to the training command) and SIGKILL."""
    for signum, wait in ((signal.SIGTERM, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def run_streamed(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    on_line: Callable[[str], None],
    max_seconds: float | None = None,
) -> Finished:
    """Run `command`, handing each output line (stdout and stderr) to `on_line` as it comes.

    After `max_seconds` the process is stopped as SageMaker stops a job at MaxRuntimeInSeconds.
    A KeyboardInterrupt while it runs stops it and is re-raised.
    """
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0
    )
    timed_out = threading.Event()

    def on_deadline() -> None:
        timed_out.set()
        stop(process)

    timer = threading.Timer(max_seconds, on_deadline) if max_seconds else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            on_line(line)
        code = process.wait()
    except BaseException:
        stop(process)
        raise
    finally:
        if timer is not None:
            timer.cancel()
    return Finished(128 - code if code < 0 else code, list(tail), timed_out.is_set())
