"""The shell tokenizer: words, quotes, operators and the offsets that fixes rely on."""
from __future__ import annotations

import shlex

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from fuzzing import examples

from cslint.shell import ShellToken, split_commands, tokenize


def words(text: str) -> list[str]:
    return [t.value for t in tokenize(text) if not t.op]


def raw(text: str) -> list[str]:
    return [text[t.start : t.end] for t in tokenize(text)]


# -- words and quoting ------------------------------------------------------------------------------
def test_plain_words_keep_their_offsets():
    text = "vllm serve  m --x 1"
    assert tokenize(text) == [
        ShellToken("vllm", 0, 4, False), ShellToken("serve", 5, 10, False),
        ShellToken("m", 12, 13, False), ShellToken("--x", 14, 17, False),
        ShellToken("1", 18, 19, False)]


def test_single_quotes_are_literal():
    assert words("a 'b c' '$(X) \\n'") == ["a", "b c", "$(X) \\n"]


def test_double_quotes_escape_only_posix_specials():
    assert words(r'"a\"b" "c\\d" "\$HOME" "\x"') == ['a"b', "c\\d", "$HOME", "\\x"]


def test_backslash_outside_quotes_escapes_any_char():
    assert words(r"a\ b c\'d \x") == ["a b", "c'd", "x"]


def test_quotes_glue_into_one_word_and_offsets_cover_the_raw_text():
    text = "--model='my model'  --x=\"1\""
    assert words(text) == ["--model=my model", "--x=1"]
    assert raw(text) == ["--model='my model'", '--x="1"']


def test_empty_quotes_make_an_empty_word():
    assert words("a '' \"\" b") == ["a", "", "", "b"]


def test_line_continuation_is_removed():
    text = "vllm serve m \\\n  --x 1 \\\n  --y"
    assert words(text) == ["vllm", "serve", "m", "--x", "1", "--y"]
    assert not any(t.op for t in tokenize(text))


def test_continuation_inside_a_word_joins_it():
    tokens = tokenize("ab\\\ncd e")
    assert tokens[0].value == "abcd" and (tokens[0].start, tokens[0].end) == (0, 6)


def test_continuation_inside_double_quotes_is_removed():
    assert words('"a\\\nb"') == ["ab"]


# -- operators, comments, redirections ------------------------------------------------------------
@pytest.mark.parametrize("op", ["&&", "||", ";", "|", "&", "\n"])
def test_control_operators_are_tokens(op):
    tokens = tokenize(f"a{op}b")
    assert [(t.value, t.op) for t in tokens] == [("a", False), (op, True), ("b", False)]
    assert tokens[1].start == 1 and tokens[1].end == 1 + len(op)


def test_quoted_operators_are_words():
    assert words("echo '&&' \"|\" \\;") == ["echo", "&&", "|", ";"]


def test_comment_runs_to_end_of_line():
    tokens = tokenize("pip install x # && vllm serve\nvllm serve m")
    assert [t.value for t in tokens] == ["pip", "install", "x", "\n", "vllm", "serve", "m"]


def test_hash_inside_a_word_is_not_a_comment():
    assert words("a#b 'c'#d") == ["a#b", "c#d"]


def test_redirections_are_marked_and_keep_io_numbers():
    tokens = tokenize("vllm serve m > /log 2>&1 &>> all")
    redirs = [(t.value, t.redirect) for t in tokens if t.redirect]
    assert redirs == [(">", True), ("2>&", True), ("&>>", True)]
    assert not any(t.op for t in tokens)


def test_command_substitution_stays_in_one_word():
    assert words("--model $(cat /etc/model name) --x `a b`") == [
        "--model", "$(cat /etc/model name)", "--x", "`a b`"]


# -- robustness -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("echo 'unterminated words", ["echo", "unterminated words"]),
    ('echo "unterminated \\" x', ["echo", 'unterminated " x']),
    ("trailing\\", ["trailing\\"]),
    ("$(never closed", ["$(never closed"]),
    ("`never closed", ["`never closed"]),
])
def test_malformed_input_does_not_raise(text, expected):
    assert words(text) == expected


def test_unterminated_quote_word_reaches_end_of_text():
    text = "a 'bc"
    assert tokenize(text)[-1] == ShellToken("bc", 2, 5, False)


@pytest.mark.parametrize("value", [None, 3, b"x", ["a"]])
def test_non_strings_tokenize_to_nothing(value):
    assert tokenize(value) == []  # type: ignore[arg-type]


# -- split_commands -------------------------------------------------------------------------------
def test_split_commands_drops_operators_and_empty_segments():
    tokens = tokenize("set -e;; pip install x && vllm serve m\n\n| tee log")
    assert [[t.value for t in c] for c in split_commands(tokens)] == [
        ["set", "-e"], ["pip", "install", "x"], ["vllm", "serve", "m"], ["tee", "log"]]


def test_split_commands_of_nothing_is_empty():
    assert split_commands([]) == []


# -- properties -----------------------------------------------------------------------------------
PLAIN = st.text(alphabet=st.sampled_from(list("abcXYZ019-_=./:,@%+ \t'\"\\")), max_size=40)


@settings(max_examples=examples(400))
@given(PLAIN)
def test_agrees_with_shlex_on_plain_words(text):
    try:
        expected = shlex.split(text, posix=True)
    except ValueError:
        assume(False)
    assert words(text) == expected


ANY = st.text(alphabet=st.sampled_from(list("ab1 \t\n'\"\\$()`#;&|<>=-")), max_size=40)


@settings(max_examples=examples(500))
@given(ANY)
def test_never_raises_and_offsets_are_ordered(text):
    tokens = tokenize(text)
    last_end = 0
    for token in tokens:
        assert 0 <= token.start <= token.end <= len(text)
        assert token.start >= last_end
        last_end = token.end


@settings(max_examples=examples(500))
@given(ANY)
def test_raw_text_of_every_word_unquotes_to_its_value(text):
    for token in tokenize(text):
        if token.op or token.redirect:
            continue
        again = [t for t in tokenize(text[token.start : token.end])]
        assert [(t.value, t.op) for t in again] == [(token.value, False)]


@given(st.lists(st.text(min_size=0, max_size=8), max_size=6))
def test_shlex_quoted_words_round_trip(values):
    text = " ".join(shlex.quote(v) for v in values)
    assert words(text) == values
