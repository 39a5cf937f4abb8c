"""Which program a container's argv starts, seen through shells and wrappers.

Works on plain word lists so the same logic serves YAML lists and words of a `sh -c` script.
The entry points are those the vLLM docs and images use (domain.md section 1.4): `vllm serve`,
the deprecated `python -m vllm.entrypoints.openai.api_server`, KServe's `huggingfaceserver`,
and the official image's implicit `ENTRYPOINT ["vllm", "serve"]`.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["detect_entrypoint", "shell_script_index", "is_vllm_image", "vllm_release", "strip_prefixes"]

# Every entrypoint `detect_entrypoint` recognises names one of these (program `vllm`, module
# `vllm.entrypoints…` or `huggingfaceserver`), as does every image `is_vllm_image` accepts.
ENTRYPOINT_WORDS = ("vllm", "huggingfaceserver")
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
_PYTHON = re.compile(r"^python(\d+(\.\d+)*)?$")
_VLLM_IMAGE = re.compile(r"(^|/)vllm-(openai|tpu|cpu)([-_.][a-z0-9]+)*$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_RELEASE_TAG = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[.-]?post\d+)?(?:-cu\d+)?$")  # v0.8.5, v0.10.1.post1, v0.9.0-cu128
# Words that may precede the real command in a shell segment or an argv.
_PREFIX_WORDS = frozenset({"exec", "nohup", "time", "then", "do", "else", "{", "!"})
_PYTHON_OPTS_WITH_ARG = frozenset({"-X", "-W", "-Q"})


def is_vllm_image(image: Any) -> bool:
    """Official vLLM images (`vllm/vllm-openai`, `-tpu`, `-cpu` variants) whose ENTRYPOINT is
    `["vllm", "serve"]`; tag and digest are ignored."""
    if not isinstance(image, str):
        return False
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: len(repo) - len(last)] + last.split(":", 1)[0]
    return "vllm/vllm-openai" in repo or bool(_VLLM_IMAGE.search(repo.lower()))


def vllm_release(image: Any) -> tuple[int, int, int] | None:
    """The vLLM release an official image's tag names (`vllm/vllm-openai:v0.8.5` → (0, 8, 5)); None
    for other images and for tags naming no release (`latest`, `nightly`, a commit, an rc)."""
    if not is_vllm_image(image):
        return None
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    m = _RELEASE_TAG.match(last.split(":", 1)[1])
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


# -- finding the engine in an argv ----------------------------------------------------------------
def strip_prefixes(values: list[str], i: int) -> int:
    """Skip `exec`, `env A=b`, `nohup`, assignments and the like before the real program."""
    while i < len(values):
        word = values[i]
        if word in _PREFIX_WORDS or _ASSIGNMENT.match(word):
            i += 1
        elif _basename(word) == "env":
            i += 1
            while i < len(values) and (values[i].startswith("-") or _ASSIGNMENT.match(values[i])):
                i += 2 if values[i] in ("-u", "--unset", "-C", "--chdir") else 1
        else:
            return i
    return i


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _python_module(values: list[str], i: int) -> tuple[str, int] | None:
    """(module, index after it) for `python [opts] -m module`, else None."""
    while i < len(values) and values[i].startswith("-"):
        word = values[i]
        if word == "-m":
            return (values[i + 1], i + 2) if i + 1 < len(values) else None
        if word.startswith("-m"):
            return word[2:], i + 1
        if word in ("-c", "-"):
            return None
        i += 2 if word in _PYTHON_OPTS_WITH_ARG else 1
    return None


def detect_entrypoint(values: list[str]) -> tuple[str, int] | None:
    """(entrypoint kind, index of the first engine argument) when `values` starts vLLM."""
    i = strip_prefixes(values, 0)
    if i >= len(values):
        return None
    program = _basename(values[i])
    if program == "vllm":
        return ("vllm-serve", i + 2) if values[i + 1 : i + 2] == ["serve"] else None
    if not _PYTHON.match(program):
        return None
    found = _python_module(values, i + 1)
    if found is None:
        return None
    module, j = found
    if module == "vllm.entrypoints.openai.api_server":
        return "api-server", j
    if module == "vllm.entrypoints.cli.main" and values[j : j + 1] == ["serve"]:
        return "vllm-serve", j + 1
    if module == "huggingfaceserver":
        return "kserve-huggingface", j
    return None


def shell_script_index(values: list[str]) -> int | None:
    """Index of the script in `sh -c SCRIPT` style argv (`-ec`, `-xc`, `-o pipefail -c` ...)."""
    if not values or _basename(values[0]) not in _SHELLS:
        return None
    has_c, i = False, 1
    while i < len(values):
        word = values[i]
        if word in ("-o", "+o", "-O", "+O"):
            i += 2
        elif word == "--":
            i += 1
            break
        elif word.startswith("--"):
            i += 1
        elif len(word) > 1 and word[0] in "-+":
            has_c = has_c or (word[0] == "-" and "c" in word[1:])
            i += 1
        else:
            break
    return i if has_c and i < len(values) else None


