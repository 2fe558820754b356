"""A `docker run` command line, read as Docker reads it: options, the image, the command in the image."""

from __future__ import annotations

import re
from typing import NamedTuple

# `docker run` options that take a value (docker 27); every other option is a switch.
_WITH_VALUE = frozenset(
    "-a --attach --add-host --annotation --blkio-weight --blkio-weight-device -c --cpu-shares --cap-add "
    "--cap-drop --cgroup-parent --cgroupns --cidfile --cpu-period --cpu-quota --cpu-rt-period "
    "--cpu-rt-runtime --cpus --cpuset-cpus --cpuset-mems --detach-keys --device --device-cgroup-rule "
    "--device-read-bps --device-read-iops --device-write-bps --device-write-iops --dns --dns-option "
    "--dns-search --domainname --entrypoint -e --env --env-file --expose --gpus --group-add "
    "--health-cmd --health-interval --health-retries --health-start-interval --health-start-period "
    "--health-timeout -h --hostname --ip --ip6 --ipc --isolation --kernel-memory -l --label "
    "--label-file --link --link-local-ip --log-driver --log-opt --mac-address -m --memory "
    "--memory-reservation --memory-swap --memory-swappiness --mount --name --network --net "
    "--network-alias --net-alias --oom-score-adj --pid --pids-limit --platform -p --publish --pull "
    "--restart --runtime --security-opt --shm-size --stop-signal --stop-timeout --storage-opt "
    "--sysctl --tmpfs --ulimit -u --user --userns --uts -v --volume --volume-driver --volumes-from "
    "-w --workdir".split()
)
_SHORT_SWITCHES = frozenset("dilPqt")
# Programs that run the command after their own options (and, for env and timeout, operands).
_WRAPPERS = frozenset({"stdbuf", "env", "timeout", "nice", "ionice", "unbuffer", "taskset"})
_WRAPPER_VALUE_OPTIONS = frozenset(
    {"-i", "-o", "-e", "-u", "-s", "-k", "-n", "-c", "--signal", "--kill-after"}
)


class DockerRun(NamedTuple):
    """What one `docker run` asks for."""

    image: str
    command: tuple[str, ...]
    env: tuple[tuple[str, str | None], ...]  # (NAME, value); value None: forwarded from the host
    workdir: str | None
    entrypoint: str | None
    mounts: tuple[tuple[str, str], ...]  # (host source, container target)
    published: tuple[str, ...]
    gpus: str | None
    detached: bool
    shm_size: str | None = None


def docker_run_at(argv: tuple[str, ...]) -> int | None:
    """Where `run`'s options start in `argv` (`docker run`, `sudo docker container run`, ...), or None."""
    words = list(argv)
    start = 0
    while start < len(words):
        if words[start] in ("sudo", "exec", "time", "nohup", "command"):
            start += 1
        elif words[start] in _WRAPPERS:
            # `stdbuf -o0 -e0 docker run`, `env A=b docker run`, `timeout 1h docker run`: the wrapper's own
            # options and operands come first, then the command it runs.
            start += 1
            while start < len(words) and (words[start].startswith("-") or _wrapper_operand(words, start)):
                start += 2 if words[start] in _WRAPPER_VALUE_OPTIONS else 1
        else:
            break
    if start >= len(words) or words[start].rsplit("/", 1)[-1] not in ("docker", "nvidia-docker", "podman"):
        return None
    rest = start + 1
    if rest < len(words) and words[rest] == "container":
        rest += 1
    return rest + 1 if rest < len(words) and words[rest] == "run" else None


def _wrapper_operand(words: list[str], index: int) -> bool:
    """True for `A=b` after `env` and for the duration after `timeout` (operands before the command)."""
    word, wrapper = words[index], words[index - 1] if index else ""
    return "=" in word and not word.startswith("=") or (wrapper == "timeout" and word[:1].isdigit())


def parse_docker_run(argv: tuple[str, ...], start: int) -> DockerRun | None:
    """The `docker run` whose options start at `argv[start]`; None when there is no image."""
    env: list[tuple[str, str | None]] = []
    values: dict[str, list[str]] = {}
    detached = False
    index = start
    while index < len(argv) and argv[index].startswith("-") and argv[index] != "-":
        option = argv[index]
        if option == "--":
            index += 1
            break
        name, has_value, inline = option.partition("=")
        if name in _WITH_VALUE:
            value = inline if has_value else (argv[index + 1] if index + 1 < len(argv) else "")
            index += 1 if has_value else 2
            values.setdefault(_canonical(name), []).append(value)
            continue
        if not name.startswith("--") and len(name) > 2 and set(name[1:-1]) <= _SHORT_SWITCHES:
            # `-it`, `-dit`, `-itv X`: switches, possibly ending in an option that takes a value.
            detached = detached or "d" in name[1:-1]
            last = "-" + name[-1]
            if last in _WITH_VALUE:
                values.setdefault(_canonical(last), []).append(
                    argv[index + 1] if index + 1 < len(argv) else ""
                )
                index += 2
                continue
        detached = detached or name in ("-d", "--detach") or (name.startswith("-d") and "d" in name[1:])
        index += 1
    if index >= len(argv):
        return None
    for item in values.get("--env", []):
        key, has_value, value = item.partition("=")
        env.append((key, value if has_value else None))
    return DockerRun(
        image=argv[index],
        command=tuple(argv[index + 1 :]),
        env=tuple(env),
        workdir=_last(values, "--workdir"),
        entrypoint=_last(values, "--entrypoint"),
        mounts=tuple(_mount(item) for item in values.get("--volume", []) + values.get("--mount", [])),
        published=tuple(values.get("--publish", [])),
        gpus=_last(values, "--gpus"),
        detached=detached,
        shm_size=_last(values, "--shm-size"),
    )


def _last(values: dict[str, list[str]], option: str) -> str | None:
    """The value an option was given last (Docker keeps the last), or None when it was not given."""
    given = values.get(option)
    return given[-1] if given else None


def _canonical(option: str) -> str:
    return {
        "-e": "--env",
        "-v": "--volume",
        "-w": "--workdir",
        "-p": "--publish",
        "-u": "--user",
        "-m": "--memory",
        "-h": "--hostname",
        "-l": "--label",
        "-a": "--attach",
        "-c": "--cpu-shares",
        "--net": "--network",
    }.get(option, option)


def _mount(spec: str) -> tuple[str, str]:
    """(source, target) of a `-v src:dst[:opts]` or `--mount type=bind,src=..,dst=..` spec."""
    if "=" in spec:
        fields = dict(item.partition("=")[::2] for item in spec.split(","))
        source = fields.get("src") or fields.get("source") or ""
        return source, fields.get("dst") or fields.get("destination") or fields.get("target") or ""
    pieces = spec.split(":")
    return (pieces[0], pieces[1]) if len(pieces) > 1 else ("", pieces[0])


def gpu_count(gpus: str | None) -> int:
    """GPUs asked for by `--gpus`: `all` and unknown forms count as 1, `2` as 2, `device=0,1` as 2."""
    if not gpus:
        return 0
    value = gpus.strip("\"'")
    if value.isdigit():
        return int(value)
    match = re.search(r"device=([0-9,]+)", value)
    return len(match.group(1).split(",")) if match else 1


def size_gb(size: str | None) -> int | None:
    """A `--shm-size` (`16G`, `8gb`, `512m`, bytes) in whole GB, rounded up; None when absent or unreadable."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)b?", (size or "").strip().lower())
    if not match:
        return None
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[match.group(2)]
    return max(1, -(-int(float(match.group(1)) * scale) // (1 << 30)))
