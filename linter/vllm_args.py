"""The effective vLLM argument list of one container, with the place every word came from.

A container can start vLLM in many ways: `vllm serve` in `command`, the official image's implicit
`ENTRYPOINT ["vllm", "serve"]`, `python -m vllm.entrypoints.openai.api_server`, KServe's
`huggingfaceserver`, or any of these inside `sh -c "..."`. Rules should not care which: they ask
`EngineArgs.get("gpu-memory-utilization")` and get the value together with a JSON pointer and
offsets they can report and fix. Parsing mirrors vLLM's FlexibleArgumentParser (see
`vllm_flags`) and Kubernetes' `$(VAR)` expansion; it never raises on malformed input.
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from .shell import ShellToken, split_commands, tokenize
from .vllm_entrypoints import ENTRYPOINT_WORDS, detect_entrypoint, is_vllm_image, shell_script_index
from .vllm_fixes import (append_flags_ops, positional_to_flag_ops, remove_tokens_ops,
                         replace_token_ops, set_flag_value_ops, split_inline_ops)
from .vllm_flags import canonical_name, is_option_like, split_flag, takes_many, takes_value

__all__ = ["Token", "Flag", "AppendPoint", "EngineArgs", "parse_engine_args", "expand_k8s_vars",
           "ENTRYPOINTS", "replace_token_ops", "set_flag_value_ops", "append_flags_ops",
           "remove_tokens_ops", "split_inline_ops", "positional_to_flag_ops"]

ENTRYPOINTS = ("vllm-serve", "image-entrypoint", "api-server", "kserve-huggingface")
ADDITIONAL_ARGS_ENV = "VLLM_ADDITIONAL_ARGS"
_SHELL_VAR = re.compile(r'^("?)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))\1$')
_OPT_LEVELS = frozenset({"0", "1", "2", "3"})


class Token(NamedTuple):
    """One argument word and where it lives in the manifest."""

    value: str      # after shell unquoting and Kubernetes $(VAR) expansion
    path: str       # JSON pointer of the scalar holding it
    start: int      # offset of the raw word in that scalar's string value
    end: int        # exclusive
    whole: bool     # the word is the entire scalar (a list item), not part of a shell string
    expanded: bool  # the value came from $(VAR) expansion

    @property
    def span(self) -> tuple[int, int] | None:
        """The word's offsets within its scalar for a finding's position; None when it is the whole scalar."""
        return None if self.whole else (self.start, self.end)


class Flag(NamedTuple):
    """One option occurrence; `values` holds every value word of nargs='+' flags."""

    name: str
    spelling: str
    token: Token
    value: Token | None
    value_text: str | None
    inline: bool
    values: tuple[Token, ...] = ()


class AppendPoint(NamedTuple):
    """Where new engine words go: a YAML list (`offset` None) or an offset in a shell string."""

    path: str
    offset: int | None
    exists: bool = True  # False when the list itself must be created


class EngineArgs(NamedTuple):
    """The words vLLM (or its KServe wrapper) receives, parsed like argparse would."""

    entrypoint: str
    tokens: tuple[Token, ...]
    flags: tuple[Flag, ...]
    positionals: tuple[Token, ...]
    shell: bool
    config_files: tuple[Flag, ...]
    duplicated_entrypoint: tuple[Token, ...] = ()
    # the first word of `args` that were written as a whole command on an image whose ENTRYPOINT
    # is `vllm serve` with no `command` (the container runs `vllm serve <args>` and exits)
    command_in_args: Token | None = None
    pointer: str = ""
    scalars: tuple[tuple[str, str], ...] = ()
    append_point: AppendPoint | None = None

    def get(self, name: str) -> Flag | None:
        """The effective occurrence: argparse keeps the last one."""
        found = self.all(name)
        return found[-1] if found else None

    def all(self, name: str) -> tuple[Flag, ...]:
        wanted = canonical_name(name)
        return tuple(f for f in self.flags if f.name == wanted)

    def has(self, name: str) -> bool:
        return bool(self.all(name))

    @property
    def reads_config_file(self) -> bool:
        """`--config FILE` as two words: vLLM then reads engine arguments from the file (the
        command line wins over it); `--config=FILE` is ignored (CS5xx)."""
        return any(not f.inline and f.value is not None for f in self.config_files)

    @property
    def eager(self) -> bool:
        """`--enforce-eager` or `-O0`: no torch.compile and no CUDA graphs."""
        return bool(self.eager_flags)

    @property
    def eager_flags(self) -> tuple[Flag, ...]:
        """What makes the engine eager: every `--enforce-eager`, and the effective `-O` level when it is 0."""
        level = self.get("optimization-level")
        zero = (level,) if level is not None and (level.value_text or "").strip() == "0" else ()
        return self.all("enforce-eager") + zero

    def scalar(self, path: str) -> str | None:
        """The original string value of a scalar holding tokens (before any expansion)."""
        for p, text in self.scalars:
            if p == path:
                return text
        return None

    @property
    def model_token(self) -> Token | None:
        source = self._model_source()
        return source[0] if source else None

    @property
    def model(self) -> str | None:
        source = self._model_source()
        return source[1] if source else None

    def _model_source(self) -> tuple[Token, str] | None:
        """`vllm serve` takes the first positional; api_server silently ignores it and serves
        its default model (domain.md 1.4, vLLM PR #22764), so only `--model` counts there."""
        if self.entrypoint in ("vllm-serve", "image-entrypoint") and self.positionals:
            return self.positionals[0], self.positionals[0].value
        names = ("model", "model-id") if self.entrypoint == "kserve-huggingface" else ("model",)
        for name in names:
            flag = self.get(name)
            if flag is not None and flag.value is not None and flag.value_text is not None:
                return flag.value, flag.value_text
        return None


# -- Kubernetes $(VAR) expansion ------------------------------------------------------------------
def expand_k8s_vars(text: str, env: dict[str, str | None]) -> tuple[str, bool]:
    """Expand `$(VAR)` like the kubelet does for command/args; returns (value, any var used).

    Follows k8s.io/kubernetes third_party/forked/golang/expansion: `$$` is an escaped `$`, an
    unknown or valueFrom variable stays literal, an unclosed `$(` is kept as written.
    """
    if "$" not in text:  # nearly every word: no per-character walk
        return text, False
    out: list[str] = []
    used, i, n = False, 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
        elif text[i + 1] == "$":
            out.append("$")
            i += 2
        elif text[i + 1] == "(" and (close := text.find(")", i + 2)) >= 0:
            name = text[i + 2 : close]
            value = env.get(name)
            if isinstance(value, str):
                out.append(value)
                used = True
            else:
                out.append(text[i : close + 1])
            i = close + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), used


# -- reading the manifest -------------------------------------------------------------------------
class _Scalars:
    """Collects the original strings of every scalar a token was read from."""

    def __init__(self) -> None:
        self.by_path: dict[str, str] = {}

    def list_items(self, raw: Any, path: str, env: dict[str, str | None]) -> list[Token]:
        """Tokens of a YAML list of strings; numbers/bools stringified as YAML spells them."""
        items: list[Token] = []
        if not isinstance(raw, list):
            return items
        for i, item in enumerate(raw):
            text = _yaml_string(item)
            if text is None:
                continue
            item_path = f"{path}/{i}"
            self.by_path[item_path] = text
            value, used = expand_k8s_vars(text, env)
            items.append(Token(value, item_path, 0, len(text), True, used))
        return items

    def shell_words(self, text: str, path: str) -> list[ShellToken]:
        self.by_path[path] = text
        return tokenize(text)

    def frozen(self) -> tuple[tuple[str, str], ...]:
        return tuple(self.by_path.items())


def _yaml_string(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (int, float)):
        return repr(item) if isinstance(item, float) else str(item)
    return None


def _word_token(word: ShellToken, raw: str, path: str, env: dict[str, str | None]) -> Token:
    """A shell word as a Token: $(VAR) expanded per word so offsets stay those of the raw text.

    A word that is exactly `$NAME`/`${NAME}` (optionally double-quoted) is resolved from the
    container env too, since the shell will substitute it at start-up.
    """
    value, used = expand_k8s_vars(word.value, env)
    match = _SHELL_VAR.match(raw[word.start : word.end])
    if match and not used:
        literal = env.get(match.group(2) or match.group(3))
        if isinstance(literal, str):
            value, used = literal, True
    return Token(value, path, word.start, word.end, False, used)


def _without_redirections(words: list[ShellToken]) -> list[ShellToken]:
    """Drop `> file`, `2>&1` ...: the shell consumes them, vLLM never sees them."""
    kept: list[ShellToken] = []
    skip_next = False
    for word in words:
        if word.redirect:
            skip_next = True
        elif skip_next:
            skip_next = False
        else:
            kept.append(word)
    return kept


# -- assembling EngineArgs ------------------------------------------------------------------------
class _Found(NamedTuple):
    entrypoint: str
    tokens: tuple[Token, ...]
    shell: bool
    append_point: AppendPoint
    duplicated: tuple[Token, ...] = ()
    command_in_args: Token | None = None


# programs whose name first in `args` says the args were written as the whole command line
_PROGRAMS = ("sh", "bash", "dash", "ash", "zsh", "python", "python3", "exec", "env", "uvicorn", "ray")


def _from_script(script: Token, scalars: _Scalars, env: dict[str, str | None]) -> _Found | None:
    """The first simple command of a `sh -c` script that starts vLLM."""
    raw = scalars.by_path.get(script.path, script.value)
    words = scalars.shell_words(raw, script.path)
    for segment in split_commands(words):
        tokens = [_word_token(w, raw, script.path, env) for w in _without_redirections(segment)]
        found = detect_entrypoint([t.value for t in tokens])
        if found is None:
            continue
        kind, start = found
        engine = tuple(tokens[start:])
        offset = (engine[-1] if engine else tokens[start - 1]).end
        return _Found(kind, engine, True, AppendPoint(script.path, offset))
    return None


def _from_argv(items: list[Token], scalars: _Scalars, env: dict[str, str | None],
               point: AppendPoint) -> _Found | None:
    values = [t.value for t in items]
    script_at = shell_script_index(values)
    if script_at is not None:
        return _from_script(items[script_at], scalars, env)
    found = detect_entrypoint(values)
    if found is None:
        return None
    kind, start = found
    rest = list(items[start:])
    # `command: [vllm, serve]` + `args: [vllm, serve, ...]` runs `vllm serve vllm serve ...` too
    return _Found(kind, tuple(rest), False, point, _duplicated(rest) if kind == "vllm-serve" else ())


def _duplicated(args: list[Token]) -> tuple[Token, ...]:
    """Leading `vllm serve` / `serve` in args that the image ENTRYPOINT already supplies."""
    values = [t.value for t in args[:2]]
    if len(values) == 2 and values[0].rsplit("/", 1)[-1] == "vllm" and values[1] == "serve":
        return tuple(args[:2])
    return tuple(args[:1]) if values[:1] == ["serve"] else ()


def _additional_args(container: dict, pointer: str, env: dict[str, str | None],
                     scalars: _Scalars) -> list[Token]:
    """Words of `VLLM_ADDITIONAL_ARGS` (KServe LLMInferenceService), appended after the args."""
    entries = container.get("env")
    if not isinstance(entries, list):
        return []
    for i in range(len(entries) - 1, -1, -1):  # the last definition wins, as in Kubernetes
        entry = entries[i]
        if not isinstance(entry, dict) or entry.get("name") != ADDITIONAL_ARGS_ENV:
            continue
        value = entry.get("value")
        if "valueFrom" in entry or not isinstance(value, str):
            return []
        path = f"{pointer}/env/{i}/value"
        words = scalars.shell_words(value, path)
        return [_word_token(w, value, path, env) for w in _without_redirections(words) if not w.op]
    return []


def _locate_engine(container: dict, pointer: str, env: dict[str, str | None],
                   scalars: _Scalars, kserve_hf: bool, llmisvc: bool = False) -> _Found | None:
    command, args_raw = container.get("command"), container.get("args")
    if command is not None and not isinstance(command, list):
        return None
    cmd = scalars.list_items(command, pointer + "/command", env)
    args = scalars.list_items(args_raw, pointer + "/args", env)
    point = AppendPoint(pointer + "/args", None, isinstance(args_raw, list))
    if command:  # an empty list means "use the image's ENTRYPOINT", as in Kubernetes
        return _from_argv(cmd + args, scalars, env, point)
    if kserve_hf:
        return _Found("kserve-huggingface", tuple(args), False, point)
    if llmisvc:  # LLMInferenceService's `main` container: KServe supplies the vLLM command
        return _Found("llmisvc", tuple(args), False, point)
    if is_vllm_image(container.get("image")):
        duplicated = _duplicated(args)
        if not duplicated and args and not is_option_like(args[0].value):
            # args written as a whole command (`sh -c "vllm serve …"`) run as `vllm serve sh -c …`:
            # read them as meant, so other rules judge the intended flags, and say so (CS503)
            launched = _from_argv(args, scalars, env, point)
            if launched is not None:
                return launched._replace(command_in_args=args[0])
            if args[0].value.rsplit("/", 1)[-1] in _PROGRAMS:
                return _Found("image-entrypoint", tuple(args), False, point, command_in_args=args[0])
        return _Found("image-entrypoint", tuple(args), False, point, duplicated)
    return _from_argv(args, scalars, env, point)  # an image without ENTRYPOINT runs args as is


def parse_engine_args(container: dict, pointer: str, env: dict[str, str | None], *,
                      kserve_hf: bool = False, llmisvc: bool = False) -> EngineArgs | None:
    """The vLLM arguments a container runs with, or None when it does not start vLLM.

    `pointer` is the container's JSON pointer; `env` maps env names to literal values (None for
    valueFrom) and drives `$(VAR)` expansion; `kserve_hf` says the container runs KServe's
    Hugging Face server when it has no command. Never raises on malformed manifests.
    """
    if not isinstance(container, dict):
        return None
    env = {k: v for k, v in env.items() if isinstance(k, str)} if isinstance(env, dict) else {}
    pointer = pointer if isinstance(pointer, str) else ""
    if not (kserve_hf or llmisvc or _may_start_engine(container, env)):
        return None  # most containers of a repository: no tokenising, no shell parsing
    scalars = _Scalars()
    found = _locate_engine(container, pointer, env, scalars, kserve_hf, llmisvc)
    if found is None:
        return None
    tokens = found.tokens + tuple(_additional_args(container, pointer, env, scalars))
    flags, positionals = _parse_options(tokens[len(found.duplicated):])
    return EngineArgs(
        entrypoint=found.entrypoint, tokens=tokens, flags=flags, positionals=positionals,
        shell=found.shell, config_files=tuple(f for f in flags if f.name == "config"),
        duplicated_entrypoint=found.duplicated, pointer=pointer, scalars=scalars.frozen(),
        append_point=found.append_point, command_in_args=found.command_in_args)


def _may_start_engine(container: dict, env: dict[str, str | None]) -> bool:
    """Cheap screen: every entrypoint `_locate_engine` recognises names one of ENTRYPOINT_WORDS
    in the image, the command, the args or (through `$(VAR)` and shell expansion) an env value."""
    words = [container.get("image")]
    for key in ("command", "args"):
        value = container.get(key)
        words.extend(value if isinstance(value, list) else (value,))
    words.extend(env.values())
    text = " ".join(w for w in words if isinstance(w, str)).lower()
    return any(word in text for word in ENTRYPOINT_WORDS)


# -- argparse-like reading of the words -----------------------------------------------------------
def _parse_options(tokens: tuple[Token, ...]) -> tuple[tuple[Flag, ...], tuple[Token, ...]]:
    """Split words into flags and positionals the way argparse would for vLLM's parser."""
    flags: list[Flag] = []
    positionals: list[Token] = []
    i, options_done = 0, False
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if options_done or not is_option_like(token.value):
            positionals.append(token)
        elif token.value == "--":
            options_done = True
        else:
            flag, i = _read_flag(tokens, token, i)
            flags.append(flag)
    return tuple(flags), tuple(positionals)


def _read_flag(tokens: tuple[Token, ...], token: Token, i: int) -> tuple[Flag, int]:
    """One option starting at `token`; `i` indexes the word after it. Returns (flag, next i)."""
    spelling = split_flag(token.value)
    assert spelling is not None  # is_option_like and not "--"
    name = spelling.name
    if spelling.inline_value is not None:
        return Flag(name, spelling.spelling, token, token, spelling.inline_value, True, (token,)), i
    if spelling.spelling == "-O" and i < len(tokens) and tokens[i].value in _OPT_LEVELS:
        name = "optimization-level"  # `-O 3`; a bare -O before anything else is -cc (<=0.11)
    values: list[Token] = []
    if takes_value(name):
        while i < len(tokens) and not is_option_like(tokens[i].value):
            values.append(tokens[i])
            i += 1
            if not takes_many(name):
                break
    first = values[0] if values else None
    return Flag(name, spelling.spelling, token, first, first.value if first else None, False,
                tuple(values)), i
