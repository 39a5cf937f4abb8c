"""A small POSIX-shell tokenizer that remembers where every word came from.

Manifests often start vLLM through `sh -c "pip install x && vllm serve ..."`. To point a finding
at `--gpu-memory-utilization 0.95` inside that string, and to fix it with a minimal text edit, we
need each word's unquoted value *and* its offsets in the script; `shlex` only gives the former.
This is not a shell: no expansion, no here-documents, no subshells; just words, quotes, comments,
control operators and redirections, which is all a command line in a manifest needs.
"""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["ShellToken", "tokenize", "split_commands", "CONTROL_OPERATORS"]

CONTROL_OPERATORS = ("&&", "||", ";", "|", "&", "\n")
_BLANKS = " \t\r"
# Longest first, so that `>>` wins over `>`.
_REDIRECTIONS = ("&>>", "<<<", "&>", ">>", ">&", ">|", "<<", "<&", "<>", ">", "<")
# Inside double quotes a backslash only escapes these (POSIX 2.2.3); elsewhere it stays literal.
_DQUOTE_ESCAPABLE = '$`"\\\n'


class ShellToken(NamedTuple):
    """One shell word or operator with the offsets of its raw text (end exclusive).

    `redirect` marks a redirection operator such as `>`, `2>&` or `>>`: the word after it is a
    file name, not an argument of the command.
    """

    value: str
    start: int
    end: int
    op: bool
    redirect: bool = False


class _Lexer:
    """Cursor over the script; one method per lexical state keeps each step small."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[ShellToken] = []
        self.word: list[str] = []
        self.word_start: int | None = None
        self.word_end = 0

    # -- words -----------------------------------------------------------------------------
    def add(self, chars: str, end: int) -> None:
        """Append unquoted characters to the current word, starting it if needed."""
        if self.word_start is None:
            self.word_start = self.pos
        self.word.append(chars)
        self.word_end = end

    def flush(self) -> None:
        if self.word_start is not None:
            word = "".join(self.word)
            self.tokens.append(ShellToken(word, self.word_start, self.word_end, False))
        self.word = []
        self.word_start = None

    # -- states ----------------------------------------------------------------------------
    def single_quoted(self) -> None:
        text, start = self.text, self.pos
        close = text.find("'", start + 1)
        end = len(text) if close < 0 else close + 1
        self.add(text[start + 1 : close if close >= 0 else len(text)], end)
        self.pos = end

    def double_quoted(self) -> None:
        text, i = self.text, self.pos + 1
        chars: list[str] = []
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _DQUOTE_ESCAPABLE:
                if text[i + 1] != "\n":
                    chars.append(text[i + 1])
                i += 2
                continue
            chars.append(text[i])
            i += 1
        end = min(i + 1, len(text))
        self.add("".join(chars), end)
        self.pos = end

    def backslash(self) -> None:
        text, i = self.text, self.pos
        if i + 1 >= len(text):
            self.add("\\", i + 1)
            self.pos = i + 1
        elif text[i + 1] == "\n":
            self.pos = i + 2  # line continuation: neither starts nor ends a word
        else:
            self.add(text[i + 1], i + 2)
            self.pos = i + 2

    def command_substitution(self) -> None:
        """Keep `$( ... )` (balanced) inside one word, as the shell does, spaces included."""
        text, depth, i = self.text, 0, self.pos
        while i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
            if depth == 0 and text[i - 1] == ")":
                break
        self.add(text[self.pos : i], i)
        self.pos = i

    def backquoted(self) -> None:
        close = self.text.find("`", self.pos + 1)
        end = len(self.text) if close < 0 else close + 1
        self.add(self.text[self.pos : end], end)
        self.pos = end

    def comment(self) -> None:
        newline = self.text.find("\n", self.pos)
        self.pos = len(self.text) if newline < 0 else newline

    def operator(self) -> bool:
        """Emit a control operator or redirection at the cursor; False when there is none."""
        text, i = self.text, self.pos
        for redirection in _REDIRECTIONS:
            if text.startswith(redirection, i):
                self.redirection(redirection)
                return True
        for op in CONTROL_OPERATORS:
            if text.startswith(op, i):
                self.flush()
                self.tokens.append(ShellToken(op, i, i + len(op), True))
                self.pos = i + len(op)
                return True
        return False

    def redirection(self, op: str) -> None:
        start, value = self.pos, op
        if self.word_start is not None and self.text[self.word_start : self.pos].isdigit():
            start, value = self.word_start, "".join(self.word) + op  # `2>` : an IO number
            self.word, self.word_start = [], None
        self.flush()
        self.tokens.append(ShellToken(value, start, self.pos + len(op), False, True))
        self.pos += len(op)

    def run(self) -> list[ShellToken]:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in _BLANKS:
                self.flush()
                self.pos += 1
            elif ch == "#" and self.word_start is None:
                self.comment()
            elif ch in "&|;\n<>" and self.operator():
                continue
            elif ch == "'":
                self.single_quoted()
            elif ch == '"':
                self.double_quoted()
            elif ch == "\\":
                self.backslash()
            elif text.startswith("$(", self.pos):
                self.command_substitution()
            elif ch == "`":
                self.backquoted()
            else:
                self.add(ch, self.pos + 1)
                self.pos += 1
        self.flush()
        return self.tokens


def tokenize(text: str) -> list[ShellToken]:
    """Split a shell command line into words and operators, keeping raw offsets.

    Never raises: an unterminated quote takes the rest of the text as the word, because a
    linter must still say something useful about a half-broken manifest.
    """
    if not isinstance(text, str):
        return []
    return _Lexer(text).run()


def split_commands(tokens: list[ShellToken]) -> list[list[ShellToken]]:
    """Group tokens into simple commands at control operators (operators are dropped)."""
    commands: list[list[ShellToken]] = []
    current: list[ShellToken] = []
    for token in tokens:
        if token.op:
            if current:
                commands.append(current)
            current = []
        else:
            current.append(token)
    if current:
        commands.append(current)
    return commands
