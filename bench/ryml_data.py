"""rapidyaml trees to the Python data PyYAML's safe loader builds: a measurement, not a product path.

rapidyaml parses YAML 1.2 and leaves every scalar a string; cslint (and Kubernetes tooling at large)
reads manifests with YAML 1.1 typing (`yes` is a bool, `0o14` a string, `2001-12-14` a date). So the
walk resolves plain scalars with PyYAML's own implicit-resolver table (the one cslint.documents
memoises) and builds the values with PyYAML's SafeConstructor: equal data by construction, so that
the timing compares like with like. Import only where `ryml` is installed.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import ryml
import yaml
from yaml.constructor import SafeConstructor

try:  # the table cslint's loader resolves with (the same object PyYAML's Resolver holds)
    from cslint.documents import _IMPLICIT as IMPLICIT_RESOLVERS
except ImportError:  # pragma: no cover - cslint renamed it; PyYAML's table is the source anyway
    IMPLICIT_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers

NONE = ryml.NONE
MAP, SEQ = ryml.MAP, ryml.SEQ
KEYQUO, VALQUO, KEYTAG, VALTAG = ryml.KEYQUO, ryml.VALQUO, ryml.KEYTAG, ryml.VALTAG
STR = "tag:yaml.org,2002:str"
CACHE_MAX = 100_000
_CONSTRUCTOR = SafeConstructor()


def _scalar_builders() -> dict[str, Callable[[str], Any]]:
    """tag → function building the Python value, for every scalar tag SafeConstructor knows."""
    builders: dict[str, Callable[[str], Any]] = {}
    for tag, fn in SafeConstructor.yaml_constructors.items():
        if tag and tag.startswith("tag:yaml.org,2002:") and tag.rsplit(":", 1)[1] not in (
                "map", "seq", "omap", "pairs", "set"):
            builders[tag] = lambda value, fn=fn, tag=tag: fn(_CONSTRUCTOR, yaml.ScalarNode(tag, value))
    return builders


BUILDERS = _scalar_builders()


def implicit_tag(value: str) -> str:
    """PyYAML's YAML 1.1 resolution of a plain scalar (first regexp of the value's first character)."""
    for tag, regexp in IMPLICIT_RESOLVERS.get(value[:1] if value else "", ()):
        if regexp.match(value):
            return tag
    return STR


def explicit_tag(raw: Any) -> str:
    tag = bytes(raw).decode("utf-8")
    if tag.startswith("!!"):
        return "tag:yaml.org,2002:" + tag[2:]
    if tag.startswith("!<") and tag.endswith(">"):
        return tag[2:-1]
    return tag


class TreeToData:
    """Walks a parsed rapidyaml tree into dicts, lists and YAML 1.1 scalars."""

    def __init__(self) -> None:
        self._plain: dict[str, Any] = {}  # plain scalar text → value: manifests repeat themselves

    def documents(self, text: str) -> Iterator[Any]:
        tree = ryml.parse_in_arena(text.encode("utf-8"))
        if "*" in text:  # aliases and merge keys `<<`
            tree.resolve()
        for doc in document_ids(tree):
            yield self.node(tree, doc, tree.type(doc))

    def node(self, tree: Any, i: int, kind: int) -> Any:
        if kind & MAP:
            out: dict[Any, Any] = {}
            c = tree.first_child(i)
            while c != NONE:
                ck = tree.type(c)
                raw = tree.key(c)
                key = self.scalar(raw, ck & KEYQUO, ck & KEYTAG and tree.key_tag(c))
                out[key] = self.node(tree, c, ck)  # duplicates: last wins, as in PyYAML
                c = tree.next_sibling(c)
            return out
        if kind & SEQ:
            items = []
            c = tree.first_child(i)
            while c != NONE:
                items.append(self.node(tree, c, tree.type(c)))
                c = tree.next_sibling(c)
            return items
        return self.scalar(tree.val(i), kind & VALQUO, kind & VALTAG and tree.val_tag(i))

    def scalar(self, raw: Any, quoted: int, tag: Any) -> Any:
        """Quoted and block scalars are strings; plain ones are resolved as PyYAML would."""
        value = "" if raw is None else str(raw, "utf-8")
        if tag:
            name = explicit_tag(tag)
            if name == STR:
                return value
            builder = BUILDERS.get(name)
            if builder is None:
                raise ValueError(f"tag {name} has no safe constructor")
            return builder(value)
        if quoted:
            return value
        cache = self._plain
        if value in cache:
            return cache[value]
        tag_name = implicit_tag(value)
        built = value if tag_name == STR else _build(tag_name, value)
        if len(cache) >= CACHE_MAX:
            cache.clear()
        cache[value] = built
        return built


def _build(tag: str, value: str) -> Any:
    builder = BUILDERS.get(tag)
    if builder is None:  # `=` (value) and a lone `<<` (merge): PyYAML's safe loader refuses them too
        raise ValueError(f"plain scalar {value!r} resolves to {tag}, which has no safe constructor")
    return builder(value)


def document_ids(tree: Any) -> list[int]:
    """Node ids of the documents: the stream's children, or the root when the text has no `---`."""
    root = tree.root_id()
    if tree.is_stream(root):
        ids, c = [], tree.first_child(root)
        while c != NONE:
            ids.append(c)
            c = tree.next_sibling(c)
        return ids
    return [] if tree.type(root) == ryml.NOTYPE else [root]


def json_documents(text: str) -> Iterator[Any]:
    """rapidyaml's own JSON emitter per document, read back with json.loads: fast, but YAML 1.2
    typing (`yes`, `~`, timestamps stay strings; quoting decides nothing the PyYAML way)."""
    tree = ryml.parse_in_arena(text.encode("utf-8"))
    if "*" in text:
        tree.resolve()
    for doc in document_ids(tree):
        yield json.loads(ryml.emit_json_malloc(tree, doc))


def parse_only(text: str) -> Iterator[Any]:
    """The parse alone (no Python objects per node): the floor any rapidyaml path starts from."""
    tree = ryml.parse_in_arena(text.encode("utf-8"))
    yield from document_ids(tree)
