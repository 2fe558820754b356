"""An example folder's `example.yaml` (CVlization layout), normalised from every shape the tree uses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from configs.instances import smallest_cpu_instance, smallest_gpu_instance
from configs.preset import Frozen, Preset

_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
# Time limits of derived presets by kind (example.yaml's `sagemaker:` block overrides them): a training
# run gets a day, anything else (predict, test, eval) two hours, the model download included.
TRAIN_MAX_RUN_MINUTES = 24 * 60
OTHER_MAX_RUN_MINUTES = 120
_TRAINING_NAMES = re.compile(r"^(train|finetune|fine-tune|fine_tune|pretrain|sft|rl|dpo|grpo|lora)", re.I)


def with_time_limits(fields: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """A preset's fields with example.yaml's `sagemaker:` `settings` applied, the time limits kept
    consistent: a spot run waits twice its run time unless `max_wait_minutes` says otherwise, and a
    `max_wait_minutes` shorter than the derived run time shortens the run to it."""
    merged = fields | settings
    if not merged.get("spot"):
        return merged
    if "max_wait_minutes" not in settings:
        merged["max_wait_minutes"] = min(2 * int(merged.get("max_run_minutes", 60)), 28 * 24 * 60)
    elif "max_run_minutes" not in settings and merged.get("max_run_minutes", 60) > merged["max_wait_minutes"]:
        merged["max_run_minutes"] = merged["max_wait_minutes"]
    return merged


def is_training(preset_name: str) -> bool:
    """True for presets that train (`train`, `train-full`, `finetune`, `sft`, ...), by name."""
    return bool(_TRAINING_NAMES.match(preset_name))


def max_run_for(preset_name: str) -> int:
    """The time limit (minutes) a derived preset gets from what it is."""
    return TRAIN_MAX_RUN_MINUTES if is_training(preset_name) else OTHER_MAX_RUN_MINUTES


class Resources(Frozen):
    """What an example needs, from `resources:` (gpu as an int, `{count, vram_gb}`, `required`, or
    `gpu_count`), `hardware: {gpu_required, min_vram_gb}` or `docker: {gpu: required|optional, vram_gb}`.
    """

    gpu: int = Field(default=0, ge=0)
    vram_gb: int = Field(default=0, ge=0)
    disk_gb: int = Field(default=30, ge=1)
    cpu_cores: int = Field(default=0, ge=0)
    ram_gb: int = Field(default=0, ge=0)


def _gpu_count(value: Any) -> int | None:
    """A GPU count from the shapes CVlization writes: 1, "required"/"optional", True/False."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("required", "yes", "true"):
            return 1
        if lowered in ("optional", "no", "false", "none", ""):
            return 0
    return value  # an int, or anything else for pydantic to reject with its own message


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def normalise_resources(raw: dict[str, Any]) -> dict[str, Any]:
    """The `Resources` fields from an example.yaml mapping, whichever of the shapes it uses."""
    resources, hardware, docker = (_section(raw, key) for key in ("resources", "hardware", "docker"))
    gpu_field = resources.get("gpu")
    vram = resources.get("vram_gb")
    if isinstance(gpu_field, dict):
        gpu, vram = gpu_field.get("count", 1), gpu_field.get("vram_gb", vram)
    else:
        gpu = _gpu_count(gpu_field)
    if gpu is None:
        gpu = _gpu_count(resources.get("gpu_count"))
    if gpu is None and hardware:
        gpu = _gpu_count(hardware.get("gpu_required"))
        vram = vram if vram is not None else hardware.get("min_vram_gb")
    if gpu is None and docker:
        gpu = _gpu_count(docker.get("gpu"))
        vram = vram if vram is not None else docker.get("vram_gb")
    found = {
        "gpu": gpu,
        "vram_gb": vram,
        "disk_gb": resources.get("disk_gb"),
        "cpu_cores": resources.get("cpu_cores"),
        "ram_gb": resources.get("ram_gb", hardware.get("min_ram_gb")),
    }
    return {key: value for key, value in found.items() if value is not None}


class DeclaredPreset(Frozen):
    """One entry of `presets:`: a script (with any leading `VAR=x` and trailing `-- args` split off),
    its `args` and `env`, or a `command` run in the image.
    """

    description: str = ""
    script: str | None = None
    script_env: dict[str, str] = {}
    args: tuple[str, ...] = ()
    env: dict[str, str] = {}
    command: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, str):
            value = {"script": value}
        elif isinstance(value, list):
            value = {"script": " ".join(str(part) for part in value)} if value else {}
        if not isinstance(value, dict):
            return value
        known = {key: value[key] for key in ("description", "script", "env", "command") if key in value}
        script_env, script, script_args = split_script_field(str(known.pop("script", "") or ""))
        script_env = dict(value.get("script_env") or {}) | script_env  # already split: `replace()`
        args = value.get("args") or []
        args = shlex.split(args) if isinstance(args, str) else [str(arg) for arg in args]
        known["env"] = {str(k): str(v) for k, v in (known.get("env") or {}).items()}
        known["description"] = str(known.get("description") or "").strip()
        return known | {"script": script, "script_env": script_env, "args": script_args + args}


def split_script_field(text: str) -> tuple[dict[str, str], str | None, list[str]]:
    """`VAR=x train.sh -- --stage a` -> ({VAR: x}, "train.sh", ["--stage", "a"])."""
    words = shlex.split(text) if text.strip() else []
    env: dict[str, str] = {}
    while words and (assignment := _ASSIGNMENT.match(words[0])):
        name, value = assignment.groups()
        env[name] = value
        words.pop(0)
    script = words.pop(0) if words else None
    if words and words[0] == "--":
        words.pop(0)
    return env, script, words


class Example(Frozen):
    """One example folder: its name (from `example.yaml`), where it lives, and what it declares."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    path: Path
    folder: str = ""
    description: str = ""
    image: str = ""
    resources: Resources = Resources()
    presets: dict[str, DeclaredPreset] = {}
    sagemaker: dict[str, dict[str, Any]] = {}
    repo_root: Path | None = None

    @field_validator("sagemaker")
    @classmethod
    def _sagemaker_settings(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        # Keys as a preset is written (`register`, not the attribute `gate`).
        known = {field.alias or name for name, field in Preset.model_fields.items()} - {"description"}
        for preset_name, settings in value.items():
            if not isinstance(settings, dict):
                raise ValueError(f"{preset_name}: must be a mapping of Preset fields")
            for key in settings:
                if key not in known:
                    raise ValueError(
                        f"{preset_name}.{key}: not a Preset field (known: {', '.join(sorted(known))})"
                    )
            Preset.model_validate(with_time_limits({"command": ["true"]} | settings, settings))
        return value


class ExampleFile(BaseModel):
    """The parts of a raw `example.yaml` this tool reads; CVlization's other keys are its own business."""

    model_config = ConfigDict(extra="ignore")

    name: str
    description: str = ""
    image: Any = None
    docker: Any = None
    presets: Any = None
    sagemaker: dict[str, Any] | None = None

    def declared_presets(self) -> dict[str, Any]:
        """`presets:` as a mapping: a list of names becomes `{name: name.sh}`, null becomes empty."""
        if isinstance(self.presets, list):
            return {str(name): f"{name}.sh" for name in self.presets}
        if isinstance(self.presets, dict):
            return {str(name): _default_script(str(name), entry) for name, entry in self.presets.items()}
        return {}

    def image_name(self) -> str:
        """The image the example's scripts run: `image:`, else `docker: {image}` or `docker: <name>`."""
        docker = self.docker.get("image") if isinstance(self.docker, dict) else self.docker
        return str(self.image or docker or "")


def _default_script(name: str, entry: Any) -> Any:
    # CVlization's runner: a mapping without `script` runs `<preset>.sh`, unless it carries a command.
    if entry is None:
        return f"{name}.sh"
    if isinstance(entry, dict) and "script" not in entry and "command" not in entry:
        return entry | {"script": f"{name}.sh"}
    return entry


def default_preset(example: Example, instance_type: str | None = None) -> Preset:
    """The `train` preset of an example that declares none: `python train.py` on what it asks for
    (`instance_type` when the caller chose one, else the cheapest that fits its resources)."""
    resources = example.resources
    instance_type = instance_type or instance_for(resources)
    return Preset(
        description=f"python train.py on {instance_type} (derived from example.yaml resources)",
        command=("python", "train.py"),
        instance_type=instance_type,
        volume_size_gb=max(resources.disk_gb, 30),
        max_run_minutes=TRAIN_MAX_RUN_MINUTES,
    )


def vram_per_gpu(resources: Resources) -> int:
    """Memory each GPU needs: `vram_gb` is the example's total (CVlization writes `gpu: 2, vram_gb: 160`
    for two 80 GB GPUs), so it is shared among `gpu` GPUs."""
    return -(-resources.vram_gb // resources.gpu) if resources.gpu > 1 else resources.vram_gb


def instance_for(
    resources: Resources, compute_capability: float = 0.0, allowed: frozenset[str] | None = None
) -> str:
    """The cheapest instance for `resources` (GPUs of at least `compute_capability`, among `allowed`
    types when given); ValueError when none is large enough."""
    if resources.gpu > 0 or resources.vram_gb > 0:
        return smallest_gpu_instance(
            max(resources.gpu, 1),
            vram_per_gpu(resources),
            resources.cpu_cores,
            resources.ram_gb,
            compute_capability=compute_capability,
            allowed=allowed,
        )
    return smallest_cpu_instance(resources.cpu_cores, resources.ram_gb, allowed)
