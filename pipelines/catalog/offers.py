"""Which examples exist (folders with an `example.yaml`) and which presets each offers, from where.

An example's presets: its config module's (`configs/<example>.py`), then those derived from its own
preset scripts (`pipelines.catalog`), or `train` = `python train.py` when it declares none; the
`sagemaker:` block of its `example.yaml` is applied on top. A preset that cannot be derived is not
offered and says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError

from configs import BadInput, Example, Preset, declared_presets, default_preset
from configs.example import with_time_limits
from pipelines.catalog.derive import derive_presets
from pipelines.catalog.image_facts import choose_instance, image_facts
from pipelines.catalog.runtime import Flag, missing_files
from pipelines.catalog.tree import Tree, find_example, read_tree

SOURCE_CONFIG = "config module"
SOURCE_DEFAULT = "default (python train.py)"


class Offer(NamedTuple):
    """A preset an example offers: where it came from, and what a user should know about it."""

    name: str
    preset: Preset
    source: str
    settings_applied: bool = False
    forwarded_secrets: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()


class NotOffered(NamedTuple):
    """A declared preset this tool cannot run, and why."""

    name: str
    reason: str


class Offers(NamedTuple):
    """An example's offered presets by name, and the declared ones not offered."""

    offered: dict[str, Offer]
    not_offered: list[NotOffered]


class Skipped(NamedTuple):
    """An example left out of `--all`: its folder and the reason."""

    folder: str
    reason: str


class Pairs(NamedTuple):
    """Every (example, preset name, preset) of a tree, and the examples skipped with their reason."""

    pairs: list[tuple[Example, str, Preset]]
    skipped: list[Skipped]


def read(root: Path) -> Tree:
    """Every example under `root`; unreadable ones are listed, not raised."""
    if not root.is_dir():
        raise BadInput(f"examples root {root} is not a folder: pass --examples-root or set CVL_EXAMPLES_ROOT")
    return read_tree(root)


def discover(root: Path) -> dict[str, Example]:
    """Every readable example under `root` by name."""
    return read(root).examples


def _with_settings(example: Example, offer: Offer) -> Offer:
    settings = example.sagemaker.get(offer.name)
    if not settings:
        return offer
    try:
        preset = Preset.model_validate(with_time_limits(offer.preset.model_dump(), settings))
    except ValidationError as error:
        first = error.errors()[0]
        raise BadInput(f"{example.path / 'example.yaml'}: sagemaker.{offer.name}: {first['msg']}") from None
    return offer._replace(preset=preset, settings_applied=True)


def offers_of(example: Example) -> Offers:
    """What `example` offers: config-module presets win over derived ones of the same name."""
    offered: dict[str, Offer] = {}
    not_offered: list[NotOffered] = []
    for name, preset in (declared_presets().get(example.name) or {}).items():
        offered[name] = Offer(name, preset, SOURCE_CONFIG)
    for derived in derive_presets(example):
        if derived.name in offered:
            continue
        if derived.preset is None:
            not_offered.append(NotOffered(derived.name, derived.reason))
            continue
        offered[derived.name] = Offer(
            derived.name,
            derived.preset,
            derived.source,
            False,
            derived.forwarded_secrets,
            derived.warnings,
            derived.flags,
        )
    if not offered and not example.presets:
        facts = image_facts(example.path)
        try:
            preset = default_preset(example, choose_instance(example.resources, facts))
        except ValueError as error:
            not_offered.append(NotOffered("train", str(error)))
        else:
            flags = missing_files(preset.command, example.path, None, False)
            offered["train"] = Offer("train", preset, SOURCE_DEFAULT, flags=tuple(flags))
    if offered and not (example.path / "Dockerfile").is_file():
        reason = "the example has no Dockerfile (its image is built from one)"
        not_offered += [NotOffered(name, reason) for name in offered]
        offered = {}
    missing_python3 = image_facts(example.path).missing_python3 if offered else ""
    if missing_python3:  # the training entry point is a Python program: the job could not start
        not_offered += [NotOffered(name, missing_python3) for name in offered]
        offered = {}
    for name in sorted(set(example.sagemaker) - set(offered) - {entry.name for entry in not_offered}):
        raise BadInput(
            f"{example.path / 'example.yaml'}: sagemaker.{name}: no such preset "
            f"(offered: {', '.join(sorted(offered)) or 'none'})"
        )
    return Offers({name: _with_settings(example, offer) for name, offer in offered.items()}, not_offered)


def presets_of(example: Example) -> dict[str, Preset]:
    """The presets `example` offers, by name."""
    return {name: offer.preset for name, offer in offers_of(example).offered.items()}


def refused_when_strict(example: Example, offer: Offer) -> str:
    """Why `upsert --strict` refuses `offer` (its flags), or "" when it is parity-clean."""
    if not offer.flags:
        return ""
    return f"{example.name} {offer.name} is flagged (--strict): " + "; ".join(
        str(flag) for flag in offer.flags
    )


def resolve(root: Path, example_name: str, preset_name: str, strict: bool = False) -> tuple[Example, Preset]:
    """The example (by name or folder path) and preset; unknown names are `BadInput` listing the known ones.
    With `strict`, a flagged preset is `BadInput` with its flags."""
    example = find_example(read(root), example_name)
    offers = offers_of(example)
    if preset_name not in offers.offered:
        why = next((entry.reason for entry in offers.not_offered if entry.name == preset_name), None)
        if why:
            raise BadInput(f"preset {preset_name!r} of {example.name} is not offered: {why}")
        raise BadInput(
            f"unknown preset {preset_name!r} for {example.name} (known: {', '.join(sorted(offers.offered))})"
        )
    offer = offers.offered[preset_name]
    if strict and offer.flags:
        raise BadInput(refused_when_strict(example, offer) + ": fix them, or run without --strict")
    return example, offer.preset


def all_pairs(root: Path, only: str | None = None, strict: bool = False) -> Pairs:
    """Every offered (example, preset name, preset) under `root` (or of example `only`), sorted by name,
    and the examples skipped because their `example.yaml` cannot be used (with `strict`, also each
    flagged preset, with its flags).
    """
    tree = read(root)
    skipped = [] if only else [Skipped(entry.folder, entry.reason) for entry in tree.unreadable]
    examples = [find_example(tree, only)] if only else [tree.examples[name] for name in sorted(tree.examples)]
    pairs: list[tuple[Example, str, Preset]] = []
    for example in examples:
        try:
            offers = offers_of(example)
        except BadInput as error:
            skipped.append(Skipped(example.folder, str(error)))
            continue
        for name in sorted(offers.offered):
            offer = offers.offered[name]
            if strict and offer.flags:
                skipped.append(Skipped(f"{example.folder} {name}", refused_when_strict(example, offer)))
                continue
            pairs.append((example, name, offer.preset))
    return Pairs(pairs, skipped)
