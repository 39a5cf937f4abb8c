"""What vLLM's argument parser knows about flag spellings, aliases and arity.

Kept apart from the parser so that a new vLLM release means editing a table, not logic.
Sources: vLLM `engine/arg_utils.py` and `utils/argparse_utils.py` (FlexibleArgumentParser) for
0.11-0.33; KServe's `huggingfaceserver` for its own store_true flags.
"""
from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["FlagSpelling", "split_flag", "canonical_name", "is_option_like", "takes_value",
           "takes_many", "BOOLEAN_FLAGS", "MULTI_VALUE_FLAGS", "SHORT_ALIASES", "LONG_ALIASES"]

# Single-dash short options declared next to the long ones (`-tp`, ...).
SHORT_ALIASES: dict[str, str] = {
    "tp": "tensor-parallel-size",
    "pp": "pipeline-parallel-size",
    "dp": "data-parallel-size",
    "dpl": "data-parallel-size-local",
    "dpn": "data-parallel-rank",
    "dpr": "data-parallel-start-rank",
    "dpa": "data-parallel-address",
    "dpp": "data-parallel-rpc-port",
    "dpb": "data-parallel-backend",
    "dph": "data-parallel-hybrid-lb",
    "dpe": "data-parallel-external-lb",
    "dpm": "data-parallel-multi-port-external-lb",
    "dcp": "decode-context-parallel-size",
    "pcp": "prefill-context-parallel-size",
    "ep": "enable-expert-parallel",
    "cc": "compilation-config",
    "q": "quantization",
    "n": "nnodes",
    "r": "node-rank",
}

# Long spellings that argparse maps to another dest.
LONG_ALIASES: dict[str, str] = {
    "device-memory-utilization": "gpu-memory-utilization",
}

# store_true / BooleanOptionalAction flags: they never consume the next word. Any `--no-*`
# is boolean too (see `takes_value`).
BOOLEAN_FLAGS: frozenset[str] = frozenset({
    # engine
    "enforce-eager", "trust-remote-code", "skip-tokenizer-init", "enable-prompt-embeds",
    "disable-sliding-window", "disable-cascade-attn", "enable-sleep-mode", "enable-lora",
    "enable-lora-bias", "fully-sharded-loras", "enable-prefix-caching", "enable-chunked-prefill",
    "disable-chunked-mm-input", "disable-custom-all-reduce", "enable-expert-parallel",
    "enable-eplb", "enable-dbo", "disable-log-stats", "disable-log-requests", "enable-log-requests",
    "async-scheduling", "headless", "data-parallel-hybrid-lb", "data-parallel-external-lb",
    "data-parallel-multi-port-external-lb", "ray-workers-use-nsight",
    "disable-hybrid-kv-cache-manager", "calculate-kv-scales", "use-tqdm-on-load",
    "kv-sharing-fast-prefill", "disable-async-output-proc",
    "enable-multimodal-encoder-data-parallel", "disable-mm-preprocessor-cache",
    "use-v2-block-manager", "enable-reasoning",
    # OpenAI server
    "enable-auto-tool-choice", "disable-frontend-multiprocessing", "disable-fastapi-docs",
    "enable-request-id-headers", "enable-ssl-refresh", "enable-server-load-tracking",
    "enable-prompt-tokens-details", "enable-force-include-usage", "enable-tokenizer-info-endpoint",
    "enable-log-outputs", "return-tokens-as-token-ids", "disable-uvicorn-access-log",
    "allow-credentials", "enable-offline-docs", "exclude-tools-when-tool-choice-none",
    "log-error-stack",
    # KServe huggingfaceserver
    "return-token-type-ids", "return-probabilities", "disable-lower-case", "disable-special-tokens",
    "return-raw-logits", "enable-docs-url", # generic
    "help", "version",
})

# Words vLLM starts only its switches with (bool fields become store_true or
# BooleanOptionalAction flags): a release's new `--skip-mm-profiling` must not swallow the
# model that follows it, as a flag missing from the table above would.
SWITCH_PREFIXES = ("no-", "enable-", "disable-", "skip-")

# nargs="+" flags: they swallow every following word that is not an option.
MULTI_VALUE_FLAGS: frozenset[str] = frozenset({
    "served-model-name", "lora-modules", "prompt-adapters", "allowed-origins", "allowed-methods",
    "allowed-headers", "middleware", "cuda-graph-sizes", "api-key",
})

_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+(?:[eE][-+]?\d+)?$|^-\d+[eE][-+]?\d+$")


class FlagSpelling(NamedTuple):
    """How one option word reads: its canonical name and any value glued to it."""

    name: str                # canonical, e.g. "gpu-memory-utilization" or "compilation-config.mode"
    spelling: str            # the option part as written ("--gpu_memory_utilization", "-O3")
    inline_value: str | None # value after '=' (or the digits of -O3)
    value_prefix: str        # raw text preceding the inline value ("--x=", "-O"), "" when none


def is_option_like(word: str) -> bool:
    """True when argparse would read `word` as an option rather than a value.

    Negative numbers (`-1`, `-0.5`) are values, as argparse decides for parsers that have no
    option that looks like a negative number; a lone `-` is a value too.
    """
    return len(word) > 1 and word.startswith("-") and not _NEGATIVE_NUMBER.match(word)


def canonical_name(name: str) -> str:
    """Canonical form of a flag name as rules may spell it: `max_model_len`, `--max-model-len`,
    `-tp`. Bare names are long names, so `tp` stays `tp`; give short aliases with their dash."""
    if name.startswith("--") or not name.startswith("-"):
        return _canonical_long(name.lstrip("-"))
    spelling = split_flag(name)
    return spelling.name if spelling else name


def _canonical_long(key: str) -> str:
    """FlexibleArgumentParser: `_`→`-` before the first '.', then argparse's aliases."""
    head, dot, tail = key.partition(".")
    head = head.replace("_", "-")
    head = LONG_ALIASES.get(head, head)
    return head + dot + tail


def _split_dash_o(word: str) -> FlagSpelling:
    """`-O3`, `-O=3`, `-Odecode` → optimization-level; `-O.x` → compilation-config.x (0.12+)."""
    rest = word[2:]
    if rest.startswith("."):
        key, eq, value = rest.partition("=")
        return FlagSpelling("compilation-config" + key, word.partition("=")[0],
                            value if eq else None, "-O" + key + "=" if eq else "")
    if rest.startswith("="):
        return FlagSpelling("optimization-level", "-O", rest[1:], "-O=")
    return FlagSpelling("optimization-level", word, rest, "-O")


def split_flag(word: str) -> FlagSpelling | None:
    """Read an option word, or None when `word` is a value/positional."""
    if not is_option_like(word) or word == "--":
        return None
    if word.startswith("--"):
        key, eq, value = word[2:].partition("=")
        return FlagSpelling(_canonical_long(key), "--" + key, value if eq else None,
                            "--" + key + "=" if eq else "")
    if word.startswith("-O") and word != "-O":
        return _split_dash_o(word)
    key, eq, value = word[1:].partition("=")
    head, dot, tail = key.partition(".")
    if head == "O":
        head = "compilation-config"
    name = SHORT_ALIASES.get(head, head) + dot + tail
    return FlagSpelling(name, "-" + key, value if eq else None, "-" + key + "=" if eq else "")


def takes_value(name: str) -> bool:
    """Whether a flag given without `=value` consumes the next word."""
    if "." in name:
        return True  # dotted JSON sub-keys always carry a value
    return not (name in BOOLEAN_FLAGS or name.startswith(SWITCH_PREFIXES))


def takes_many(name: str) -> bool:
    return name in MULTI_VALUE_FLAGS
