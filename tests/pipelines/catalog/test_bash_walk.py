"""The walker over whole preset-script shapes: the branch real bash takes on the same script (tests and
`&&`/`||`), and the commands it records.

Each script runs commands that do not exist (`then_branch`, `else_branch`, `run ...`): bash prints them
instead of failing, the reader records them as calls, and the two lists must agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.catalog.bash.interpret import walk
from pipelines.catalog.bash.words import USER_ARGS
from tests.pipelines.catalog.real_bash import bash_runs

HEAD = 'SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"\n'

# (setup, condition): each as CVlization's preset scripts write them. Tests of host paths outside the
# example folder are left out on purpose: the reader takes them as undecidable (host state is not the
# job's), where bash on this machine would decide them.
CONDITIONS = [
    ("X=/data/in", '[[ "$X" = /* ]]'),  # a pattern: an absolute path
    ("X=data/in", '[[ "$X" = /* ]]'),
    ("X=data/in", '[[ ! "$X" = /* ]]'),
    ("X=/data/in", '[[ "$X" != /* ]]'),
    ("X=run.sh", "[[ $X == *.sh ]]"),
    ("X=run.py", "[[ $X == *.sh ]]"),
    ("X=run.sh", '[[ $X == "*.sh" ]]'),  # a quoted pattern is literal
    ("X=run.sh P='*.sh'", "[[ $X == $P ]]"),  # an unquoted variable is a pattern
    ("X=run.sh P='*.sh'", '[[ $X == "$P" ]]'),
    ("X=/data/in", '[ "$X" = "/*" ]'),  # `[` compares strings
    ("", "[[ -z $UNSET ]]"),  # `[[` does not split: an unset variable is an empty word
    ("", "[[ $UNSET == *.sh ]]"),
    ("", '[ -d "" ]'),
    ('X="$SCRIPT_DIR/data"', '[ ! -d "$X" ]'),  # ... files of the example are looked at
    ('X="$SCRIPT_DIR/data/images"', '[ "$X" = "$SCRIPT_DIR/data/images" ] && [ ! -d "$X" ]'),
    ('X="$SCRIPT_DIR/other"', '[ "$X" = "$SCRIPT_DIR/data/images" ] && [ ! -d "$X" ]'),
    ("", '[ -n "$UNSET" ] || [ -z "$UNSET" ]'),
    ("set -- --input x", '[[ $# -gt 0 && "$1" != --* ]]'),
    ("set -- input x", '[[ $# -gt 0 && "$1" != --* ]]'),
    ("A=1 B=2", '[ "$A" -lt "$B" ]'),
]


def _script(example: Path, body: str) -> Path:
    (example / "data").mkdir(exist_ok=True)
    script = example / "run.sh"
    script.write_text(HEAD + body + "\n")
    return script


def _reader_runs(script: Path, example: Path) -> list[str]:
    return [" ".join(call.argv) for call in walk(script, example, None, {}, []).calls]


@pytest.mark.parametrize(("setup", "condition"), CONDITIONS)
def test_if_takes_the_branch_bash_takes(tmp_path: Path, setup: str, condition: str) -> None:
    example = tmp_path.resolve()
    script = _script(example, f"{setup}\nif {condition}; then then_branch; else else_branch; fi")
    assert _reader_runs(script, example) == bash_runs(script, example)


@pytest.mark.parametrize(("setup", "condition"), CONDITIONS)
def test_and_or_lists_run_what_bash_runs(tmp_path: Path, setup: str, condition: str) -> None:
    example = tmp_path.resolve()
    script = _script(example, f"{setup}\n{condition} && when_true\n{condition} || when_false")
    assert _reader_runs(script, example) == bash_runs(script, example)


def test_mast3r_shape_uses_the_images_default_when_the_folder_is_missing(tmp_path: Path) -> None:
    """`[ "$X" = default ] && [ ! -d "$X" ]` chooses the demo data, as bash does on a fresh checkout."""
    example = tmp_path.resolve()
    script = _script(
        example,
        'INPUT="${SCRIPT_DIR}/data/images"\n'
        'if [ "$INPUT" = "${SCRIPT_DIR}/data/images" ] && [ ! -d "$INPUT" ]; then IN=/opt/demo; else\n'
        '  if [ ! -d "$INPUT" ]; then exit 1; fi\n  IN=/workspace/input\nfi\n'
        'docker run --rm img python3 predict.py --input "$IN"',
    )
    assert _reader_runs(script, example) == bash_runs(script, example)
    assert _reader_runs(script, example) == ["docker run --rm img python3 predict.py --input /opt/demo"]


def test_relative_input_made_absolute_only_when_relative(tmp_path: Path) -> None:
    """dust3r's shape: `[[ "$X" != /* ]]` prefixes the script folder to a relative path only."""
    example = tmp_path.resolve()
    body = (
        'for INPUT in data/images /abs/images; do\n  X="$INPUT"\n'
        '  if [[ "$X" != /* ]]; then X="$SCRIPT_DIR/$X"; fi\n  run --input "$X"\ndone'
    )
    script = _script(example, body)
    assert _reader_runs(script, example) == bash_runs(script, example)
    assert _reader_runs(script, example) == [f"run --input {example}/data/images", "run --input /abs/images"]


def test_a_guard_before_docker_run_in_an_and_list_becomes_a_prepare_step(tmp_path: Path) -> None:
    example = tmp_path.resolve()
    script = _script(example, '[ ! -f "$SCRIPT_DIR/data/x.bin" ] && docker run img python get.py\nrun train')
    calls = walk(script, example, None, {}, []).calls
    assert [(call.argv, call.guard) for call in calls] == [
        (("docker", "run", "img", "python", "get.py"), str(example / "data" / "x.bin")),
        (("run", "train"), None),
    ]


def test_case_matches_patterns_as_bash_does(tmp_path: Path) -> None:
    example = tmp_path.resolve()
    body = (
        "for X in run.sh train.py --flag other; do\n"
        '  case "$X" in\n    *.sh|*.bash) shell "$X" ;;\n    *.py) python "$X" ;;\n'
        '    --*) flag "$X" ;;\n    *) other "$X" ;;\n  esac\ndone'
    )
    script = _script(example, body)
    assert _reader_runs(script, example) == bash_runs(script, example)


def test_a_negated_command_is_seen_as_negated(tmp_path: Path) -> None:
    """`if ! [ -f x ]` and `! [ -n "" ] && y`: the `!` is bash's, not dropped."""
    example = tmp_path.resolve()
    body = (
        'if ! [ -f "$SCRIPT_DIR/missing.bin" ]; then then_branch; else else_branch; fi\n'
        '! [ -n "$UNSET" ] && when_true\n'
        "if ! [[ run.sh == *.sh ]]; then then_branch; else else_branch; fi"
    )
    script = _script(example, body)
    assert _reader_runs(script, example) == bash_runs(script, example)
    assert _reader_runs(script, example) == ["then_branch", "when_true", "else_branch"]


def test_docker_run_behind_stdbuf_with_the_users_arguments(tmp_path: Path) -> None:
    """modded_nanogpt's shape, after a here-document that writes a file (its body is not run)."""
    example = tmp_path.resolve()
    body = (
        "cat > generate.py << 'EOF'\ndocker run not-this\nEOF\n"
        'stdbuf -o0 -e0 docker run --rm -v "$SCRIPT_DIR:/workspace" img torchrun train.py "$@"'
    )
    calls = walk(_script(example, body), example, None, {}, ["--steps", "10"]).calls
    assert [call.argv for call in calls] == [
        ("cat",),
        (
            "stdbuf", "-o0", "-e0", "docker", "run", "--rm", "-v", f"{example}:/workspace",
            "img", "torchrun", "train.py", "--steps", "10", USER_ARGS,
        ),
    ]  # fmt: skip
