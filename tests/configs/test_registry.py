"""The registry finds preset modules by what they are: a `configs` module whose source assigns `PRESETS`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import configs
from configs.registry import declared_presets, declares_presets, preset_modules


@pytest.fixture
def extra_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A second folder on `configs.__path__`, as if its modules were in the package."""
    monkeypatch.setattr(configs, "__path__", [*configs.__path__, str(tmp_path)])
    declared_presets.cache_clear()
    yield tmp_path
    declared_presets.cache_clear()


def test_the_bundled_package_has_one_preset_module() -> None:
    assert preset_modules() == ["nanogpt"]
    assert set(declared_presets()["nanogpt"]) == {"smoke", "train"}


def test_a_new_example_module_is_found_and_machinery_is_never_imported(extra_configs: Path) -> None:
    (extra_configs / "zz_tiny.py").write_text(
        "from configs.preset import Preset\n"
        "PRESETS: dict[str, Preset] = {'cpu': Preset(command=['python', 'tiny.py'])}\n"
        "EXAMPLE = 'tiny-example'\n"
    )
    # Machinery beside the presets: importing it would fail the test.
    (extra_configs / "zz_helpers.py").write_text("raise RuntimeError('the registry imported zz_helpers')\n")
    (extra_configs / "zz_reader.py").write_text(
        "raise RuntimeError('imported')\ndef presets():\n    PRESETS = {}\n    return PRESETS\n"
    )
    assert preset_modules() == ["nanogpt", "zz_tiny"]
    found = declared_presets()
    assert found["tiny-example"]["cpu"].command == ("python", "tiny.py")


def test_presets_that_are_no_mapping_are_bad_input(extra_configs: Path) -> None:
    (extra_configs / "zz_listed.py").write_text("PRESETS = ['cpu']\n")
    with pytest.raises(configs.BadInput, match=r"configs/zz_listed.py: PRESETS must map preset names"):
        declared_presets()


@pytest.mark.parametrize(
    ("source", "declares"),
    [
        ("PRESETS = {}\n", True),
        ("PRESETS: dict = {}\n", True),
        ("A = PRESETS = {}\n", True),
        ("from configs.nanogpt import PRESETS\n", False),  # a reader, not a declaration
        ("if True:\n    PRESETS = {}\n", False),
        ("PRESET = {}\n", False),
    ],
)
def test_a_declaration_is_a_top_level_assignment(tmp_path: Path, source: str, declares: bool) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert declares_presets(module) is declares
