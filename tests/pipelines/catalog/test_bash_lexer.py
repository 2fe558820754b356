"""The lexer on its own: words made of quoted and unquoted parts, operators, array literals, and what
it drops (comments, redirections, here-document bodies)."""

from __future__ import annotations

import pytest

from pipelines.catalog.bash.lexer import Lit, Param, ShellSyntaxError, Sub, Token, tokenize


def shape(token: Token) -> object:
    """A token written compactly: an operator as itself, a word as its parts, an array as (name, items)."""
    if token.op == "array":
        return (token.name, [shape(item) for item in token.items])
    if token.op:
        return token.op
    return [
        (type(part).__name__, part.expr if isinstance(part, Param) else part.text, part.quoted)
        for part in token.parts
    ]


def shapes(text: str) -> list[object]:
    return [shape(token) for token in tokenize(text)]


def test_array_literals_and_appends() -> None:
    assert shapes('ARR=(a "b c")') == [("ARR=", [[("Lit", "a", False)], [("Lit", "b c", True)]])]
    assert shapes('DOCKER_ARGS+=(--env "K=$V")') == [
        ("DOCKER_ARGS+=", [[("Lit", "--env", False)], [("Lit", "K=", True), ("Param", "V", True)]])
    ]
    assert shapes("X=(\n  a  # first\n  b\n)") == [("X=", [[("Lit", "a", False)], [("Lit", "b", False)]])]


def test_parameter_expansions_keep_their_whole_text_inner_quotes_included() -> None:
    assert shapes('"${ARR[@]}"') == [[("Param", "ARR[@]", True)]]
    assert shapes('${arr[@]+"${arr[@]}"}') == [[("Param", 'arr[@]+"${arr[@]}"', False)]]
    assert shapes('${x:+"$x"} ${x:-default}') == [
        [("Param", 'x:+"$x"', False)],
        [("Param", "x:-default", False)],
    ]
    assert shapes('"$@" $1 $#') == [[("Param", "@", True)], [("Param", "1", False)], [("Param", "#", False)]]
    assert shapes('"a${X}b"') == [[("Lit", "a", True), ("Param", "X", True), ("Lit", "b", True)]]


def test_command_substitutions_nest_and_arithmetic_is_marked() -> None:
    (word,) = tokenize('$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)')
    assert word.parts == (Sub('cd "$(dirname "${BASH_SOURCE[0]}")" && pwd', False),)
    assert tokenize("`pwd`/x")[0].parts == (Sub("pwd", False), Lit("/x", False))
    assert tokenize("$((N + 1))")[0].parts == (Sub("N + 1", False, arith=True),)
    assert tokenize("<(sort a)")[0].parts == (Sub("sort a", False),)


def test_quotes_escapes_and_ansi_c_strings() -> None:
    assert shapes("'a $b'") == [[("Lit", "a $b", True)]]
    assert shapes('"q \\"x\\" \\$y"') == [[("Lit", 'q "x" $y', True)]]
    assert shapes("a\\ b") == [[("Lit", "a", False), ("Lit", " ", True), ("Lit", "b", False)]]
    assert shapes("$'a\\tb'") == [[("Lit", "a\tb", True)]]


def test_operators_and_line_numbers() -> None:
    tokens = tokenize("a && b || c; d &\ne | f\n")
    assert [token.op or "w" for token in tokens] == [
        "w",
        "&&",
        "w",
        "||",
        "w",
        ";",
        "w",
        "&",
        "\n",
        "w",
        "|",
        "w",
        "\n",
    ]
    assert [token.line for token in tokens if not token.op] == [1, 1, 1, 1, 2, 2]


def test_continuations_and_comments() -> None:
    assert shapes("docker run \\\n  --rm img # the image\n") == [
        [("Lit", "docker", False)],
        [("Lit", "run", False)],
        [("Lit", "--rm", False)],
        [("Lit", "img", False)],
        "\n",
    ]
    assert shapes("a#b") == [[("Lit", "a#b", False)]]  # `#` starts a comment only at a word's start


def test_redirections_are_dropped_with_their_target() -> None:
    assert shapes("python x.py 2>&1 >/dev/null | tee log.txt") == [
        [("Lit", "python", False)],
        [("Lit", "x.py", False)],
        "|",
        [("Lit", "tee", False)],
        [("Lit", "log.txt", False)],
    ]
    assert shapes('cmd >> "$LOG" < in.txt &>/dev/null') == [[("Lit", "cmd", False)]]


def test_here_document_bodies_are_not_commands() -> None:
    text = "cat > generate.py << 'EOF'\ndocker run not-a-command\nEOF\nnext\n"
    assert shapes(text) == [[("Lit", "cat", False)], "\n", [("Lit", "next", False)], "\n"]
    assert tokenize(text)[2].line == 4
    tabbed = "python - <<-PY\n\timport os\n\tPY\nafter\n"
    assert shapes(tabbed)[-2] == [("Lit", "after", False)]


def test_case_arms_lex_as_words_and_operators() -> None:
    assert shapes("case $x in a|b) y ;; esac") == [
        [("Lit", "case", False)],
        [("Param", "x", False)],
        [("Lit", "in", False)],
        [("Lit", "a", False)],
        "|",
        [("Lit", "b", False)],
        ")",
        [("Lit", "y", False)],
        ";;",
        [("Lit", "esac", False)],
    ]


@pytest.mark.parametrize("text", ["echo 'open", "X=$(echo", "Y=${X"])
def test_unbalanced_quotes_and_expansions_are_syntax_errors(text: str) -> None:
    with pytest.raises(ShellSyntaxError):
        tokenize(text)
