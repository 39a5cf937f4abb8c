"""Ray Serve LLM's engine arguments, read from a RayService's `serveConfigV2`.

The serve config is a YAML document inside a string. Each application built from
`ray.serve.llm` lists `llm_configs`, and each config passes `engine_kwargs` to vLLM (underscore
spellings: `gpu_memory_utilization`). The string is composed as YAML of its own, so every value
keeps its offsets in the string, from which a finding's position in the manifest follows.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import yaml

from .documents import _BaseLoader  # the safe loader (libyaml's when present) every document uses

MAX_CONFIG_CHARS = 1 << 20  # a serve config is a few KB; more is not read


class EngineKwarg(NamedTuple):
    """One engine argument of an llm_config: its value as YAML reads it, and where it is written."""
    name: str
    value: Any
    span: tuple[int, int]  # offsets of the value in the serve config string


def llm_engine_kwargs(config: object) -> list[dict[str, EngineKwarg]]:
    """The engine_kwargs of every llm_config of every application, by name; [] for a config that
    is no string, too large, or not YAML (the serve controller's to reject, not ours)."""
    if not isinstance(config, str) or len(config) > MAX_CONFIG_CHARS:
        return []
    try:
        root = yaml.compose(config, Loader=_BaseLoader)
    except (yaml.YAMLError, RecursionError):
        return []
    construct = yaml.constructor.SafeConstructor().construct_object  # scalars only: safe tags
    found = []
    for app in _items(root, "applications"):
        for llm in _items(_get(app, "args"), "llm_configs"):
            kwargs = _get(llm, "engine_kwargs")
            if isinstance(kwargs, yaml.MappingNode):
                found.append({key.value: EngineKwarg(key.value, _scalar(construct, value), (value.start_mark.index,
                                                                                  value.end_mark.index))
                              for key, value in kwargs.value
                              if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode)})
    return found


def _get(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _items(node: Any, key: str) -> list:
    seq = _get(node, key)
    return list(seq.value) if isinstance(seq, yaml.SequenceNode) else []


def _scalar(construct: Any, node: yaml.ScalarNode) -> Any:
    try:
        return construct(node)
    except yaml.YAMLError:
        return node.value
