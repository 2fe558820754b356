"""Word expansion on its own: each word is expanded by the reader and by real bash, with the same
variables, and the fields must agree."""

from __future__ import annotations

import pytest

from pipelines.catalog.bash.lexer import tokenize
from pipelines.catalog.bash.words import UNKNOWN, USER_ARGS, Expander, lookup_in, secret, secrets_in
from tests.pipelines.catalog.real_bash import Variables, bash_fields

SCRIPT = "/src/example/run.sh"
VARS: Variables = {
    "X": "a b",
    "EMPTY": "",
    "P": "/abs/path/file.tar.gz",
    "ARR": ["one", "two words", ""],
    "NONE": [],
    "KEY_ARGS": ["--env", "K=v"],
    "NESTED_DEFAULT": "",
}
POSITIONAL = ["p q", "", "r"]

# (word as written in a script) -> expanded by both; the shapes CVlization's preset scripts use.
WORDS = [
    '"${ARR[@]}"',  # one field per item, empty items kept
    "${ARR[@]}",  # unquoted: split, empty items gone
    '"pre${ARR[@]}post"',  # prefix on the first item, suffix on the last
    '"${NONE[@]}"',  # an empty array: no field at all
    '${KEY_ARGS[@]+"${KEY_ARGS[@]}"}',  # `set -u`-safe forwarding of an array
    '"${KEY_ARGS[@]+"${KEY_ARGS[@]}"}"',  # ... quoted outside too: still one field per item
    '${NONE[@]+"${NONE[@]}"}',  # ... of an empty array: nothing
    '"${NONE[@]+"${NONE[@]}"}"',
    '"${UNSET_ARR[@]+"${UNSET_ARR[@]}"}"',
    '${X:+"$X"}',  # forwarded only when set, kept whole
    '${UNSET:+"$UNSET"}',
    "${X:+--name $X}",  # unquoted alternative: split
    '${X:+-e "K=$X"}',
    '"${X:+$X}"',
    '"${UNSET:+x}"',  # quoted: one empty field even when the alternative is not used
    '"$UNSET"',
    "$UNSET",
    '"$EMPTY"',
    "${UNSET:-default}",
    "${EMPTY:-default}",
    "${EMPTY-default}",  # without the colon an empty value is kept
    '"${UNSET:-two words}"',
    "${UNSET:-two words}",
    "${NESTED_DEFAULT:-${UNSET:-inner}}",
    "$X",
    '"$X"',
    '"$@"',
    "$@",
    '"$*"',
    "$#",
    '"${1}"',
    '"${3:-none}"',
    '"${9:-none}"',
    "${#ARR[@]}",
    "${#P}",
    "${P%/*}",
    "${P##*/}",
    "${P#*.}",
    "${P%%.*}",
    "${P^^}",
    "'single $X'",
    '"dq \\"$X\\" \\$X"',
    "a\\ b",
    "$'tab\\there'",
    "${ARR[1]}",
    '"${ARR[1]}"',
    "${ARR}",  # an array's name alone is its first item
]


def reader_fields(word: str, variables: Variables = VARS, positional: list[str] = POSITIONAL) -> list[str]:
    lookup = lookup_in(variables, list(positional), SCRIPT, "/src/example")
    (token,) = [token for token in tokenize(word) if not token.op]
    return Expander(lookup, lambda text: UNKNOWN).fields(token)


@pytest.mark.parametrize("word", WORDS)
def test_expansion_matches_bash(word: str) -> None:
    assert reader_fields(word) == bash_fields(word, VARS, POSITIONAL)


def test_bash_source_and_the_script_path() -> None:
    assert reader_fields('"${BASH_SOURCE[0]}"') == [SCRIPT]
    assert reader_fields('"$0"') == [SCRIPT]


def test_command_substitution_is_the_callbacks_answer_split_only_unquoted() -> None:
    lookup = lookup_in({}, [], SCRIPT, "/src/example")
    expand = Expander(lookup, lambda text: {"pwd": "/a dir", "echo x": "x"}.get(text, UNKNOWN))
    assert expand.fields(tokenize('"$(pwd)"')[0]) == ["/a dir"]
    assert expand.fields(tokenize("$(pwd)")[0]) == ["/a", "dir"]
    assert expand.fields(tokenize("`echo x`/y")[0]) == ["x/y"]
    assert expand.fields(tokenize("$((1 + 2))")[0]) == [UNKNOWN]


def test_the_users_arguments_stay_one_marker_field() -> None:
    """`"$@"` of a preset script holds what the user passes after `--`: one marker, never split."""
    assert reader_fields('"$@"', positional=["--epochs", "3", USER_ARGS]) == ["--epochs", "3", USER_ARGS]
    assert reader_fields("$#", positional=["a", USER_ARGS]) == ["1"]


def test_host_secrets_are_placeholders_and_other_host_variables_unset() -> None:
    fields = reader_fields('${HF_TOKEN:+-e "HF_TOKEN=$HF_TOKEN"}', variables={})
    assert fields == ["-e", f"HF_TOKEN={secret('HF_TOKEN')}"]
    assert secrets_in(fields[1]) == ["HF_TOKEN"]
    assert reader_fields("${CUDA_VISIBLE_DEVICES:-all}", variables={}) == ["all"]
    assert reader_fields("$HOME/.cache", variables={}) == ["/root/.cache"]


def test_pattern_escapes_only_quoted_parts() -> None:
    lookup = lookup_in({"Q": "*"}, [], SCRIPT, "/")
    expand = Expander(lookup, lambda text: UNKNOWN)
    assert expand.pattern(tokenize("/*")[0]) == "/*"
    assert expand.pattern(tokenize('"/*"')[0]) == "/[*]"
    assert expand.pattern(tokenize('"$Q".sh')[0]) == "[*].sh"
    assert expand.pattern(tokenize("$Q.sh")[0]) == "*.sh"
