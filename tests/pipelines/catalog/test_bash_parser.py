"""The parser on its own: the tree of commands a preset script is, from its tokens."""

from __future__ import annotations

import pytest

from pipelines.catalog.bash.lexer import ShellSyntaxError, Token
from pipelines.catalog.bash.parser import (
    AndOr,
    Case,
    Function,
    Group,
    If,
    Loop,
    Node,
    Pipeline,
    Simple,
    keyword,
    parse,
)


def text(token: Token) -> str:
    """A word's source-ish text: its parts' texts (expansions as `$…`)."""
    if token.op == "array":
        return f"{token.name}({' '.join(text(item) for item in token.items)})"
    return "".join(getattr(part, "text", None) or f"${{{getattr(part, 'expr', '')}}}" for part in token.parts)


def words(node: Node) -> list[str]:
    assert isinstance(node, Simple), node
    return [text(token) for token in node.words]


def test_simple_commands_with_assignments_arrays_and_lines() -> None:
    first, second, third = parse('X=1 cmd a\nARR=(a b)\n\nstdbuf -o0 -e0 docker run img "$@"\n')
    assert isinstance(first, Simple) and isinstance(third, Simple)
    assert words(first) == ["X=1", "cmd", "a"] and first.line == 1
    assert words(second) == ["ARR=(a b)"]
    assert words(third) == ["stdbuf", "-o0", "-e0", "docker", "run", "img", "${@}"]
    assert third.line == 4


def test_and_or_is_left_associative_and_may_continue_on_the_next_line() -> None:
    (node,) = parse('[ "$X" = a ] && [ ! -d "$X" ] ||\n  fallback')
    assert isinstance(node, AndOr) and node.op == "||" and words(node.right) == ["fallback"]
    assert isinstance(node.left, AndOr) and node.left.op == "&&"
    assert words(node.left.left) == ["[", "${X}", "=", "a", "]"]
    assert words(node.left.right) == ["[", "!", "-d", "${X}", "]"]


def test_double_bracket_keeps_its_operators_as_words() -> None:
    (node,) = parse('[[ $# -gt 0 && "$1" != --* ]] && shift')
    assert isinstance(node, AndOr)
    assert words(node.left) == ["[[", "${#}", "-gt", "0", "&&", "${1}", "!=", "--*", "]]"]
    assert words(node.right) == ["shift"]


def test_pipelines_groups_and_subshells() -> None:
    pipeline, group, subshell = parse("a | b |& c\n{ x; y; }\n( cd d && z )")
    assert isinstance(pipeline, Pipeline) and [words(c) for c in pipeline.commands] == [["a"], ["b"], ["c"]]
    assert isinstance(group, Group) and [words(c) for c in group.body] == [["x"], ["y"]]
    assert isinstance(subshell, Group) and isinstance(subshell.body[0], AndOr)


def test_if_elif_else() -> None:
    (node,) = parse("if [ -f a ]; then x\nelif [[ $b == *.sh ]]; then y; z\nelse w\nfi")
    assert isinstance(node, If)
    assert [[words(c) for c in condition] for condition, _ in node.branches] == [
        [["[", "-f", "a", "]"]],
        [["[[", "${b}", "==", "*.sh", "]]"]],
    ]
    assert [[words(c) for c in body] for _, body in node.branches] == [[["x"]], [["y"], ["z"]]]
    assert [words(c) for c in node.orelse] == [["w"]]


def test_loops() -> None:
    for_in, for_args, while_loop = parse(
        'for f in a "b c"; do run "$f"; done\nfor arg; do x; done\nwhile [[ $# -gt 0 ]]; do shift; done'
    )
    assert isinstance(for_in, Loop) and for_in.kind == "for" and for_in.name == "f"
    assert [text(item) for item in for_in.items] == ["a", "b c"]
    assert isinstance(for_args, Loop) and [text(item) for item in for_args.items] == ["${@}"]
    assert isinstance(while_loop, Loop) and while_loop.kind == "while"
    assert [words(c) for c in while_loop.condition] == [["[[", "${#}", "-gt", "0", "]]"]]


def test_case_with_alternatives_and_fallthrough_forms() -> None:
    (node,) = parse("case $1 in\n  --input|-i) IN=$2; shift 2 ;;\n  (*.sh) sh ;&\n  *) other ;;\nesac")
    assert isinstance(node, Case) and text(node.word) == "${1}"
    assert [[text(p) for p in patterns] for patterns, _ in node.arms] == [["--input", "-i"], ["*.sh"], ["*"]]
    assert [words(c) for c in node.arms[0][1]] == [["IN=${2}"], ["shift", "2"]]


def test_functions_in_both_forms() -> None:
    first, second = parse("build() {\n  docker build .\n}\nfunction run_it { docker run x; }")
    assert (
        isinstance(first, Function)
        and first.name == "build"
        and words(first.body[0]) == ["docker", "build", "."]
    )
    assert isinstance(second, Function) and second.name == "run_it"


def test_keywords_are_unquoted_literals_only() -> None:
    (node,) = parse('echo "if" then')
    assert isinstance(node, Simple) and words(node) == ["echo", "if", "then"]
    assert [keyword(token) for token in node.words] == ["echo", "", "then"]


@pytest.mark.parametrize(
    "script", ["if true; then x", "for a in b; do x", "case x in a) y", "{ x", "a &&", "x )"]
)
def test_unfinished_scripts_are_syntax_errors(script: str) -> None:
    with pytest.raises(ShellSyntaxError):
        parse(script)


def test_a_negated_simple_command_keeps_its_bang() -> None:
    (node,) = parse("if ! [ -f x ]; then y; fi")
    assert isinstance(node, If)
    assert [words(c) for c in node.branches[0][0]] == [["!", "[", "-f", "x", "]"]]
