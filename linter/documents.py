"""Parsed YAML documents with positions on demand.

A file is cut into document chunks at `---`/`...` marker lines (YAML forbids those markers
inside scalars at column 0, so the cut is exact) and each chunk is parsed on its own. That buys
three things: a syntax error costs only its own document, the text of each document is known
for fixes, and the position tree (`compose`) is built only for documents that have findings.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Iterator, NamedTuple

import yaml

from .model import Position

try:  # the libyaml C loader when present, pure Python otherwise
    _BaseLoader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _BaseLoader = yaml.SafeLoader

MAX_ALIAS_EXPANSION = 100_000  # nodes a document may expand to through aliases
# nesting a document may have (deeper is CS000): an explicit bound, so the answer does not depend
# on how deep the caller's stack is (a worker's is deeper than the main process's), with room left
# for rules that walk data recursively and for pickling (`spool.PICKLE_RECURSION`)
MAX_DEPTH = 400
# documents up to this size find a position's line by counting breaks (cheaper than building a
# line index for the few findings a document has; larger ones build it once: `offsets_position`)
_COUNTED_CHUNK = 16_384
COMPOSE_DEPTH = 10_000  # deeper input would overflow libyaml's recursive composer (C stack)
# a document marker line; `_markers` finds the same matches faster (tests hold it to this)
_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
_SOURCE = re.compile(r"^#\s*Source:\s*(\S.*?)\s*$", re.M)
_CONTENT_LINE = re.compile(r"^(?![ \t]*(?:#|%|$))", re.M)


class DocumentError(Exception):
    """A document that cannot be used: syntax error, duplicate key, bomb, too deep."""

    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line  # 0-based within the chunk
        self.column = column


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_RESOLVED: dict[str, str] = {}  # plain scalar → tag; manifests repeat the same keys and values
_RESOLVED_MAX = 20_000  # ~2 MB; 10k bench documents resolve ~19k distinct plain scalars


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that refuses duplicate keys and alias bombs."""

    def resolve(self, kind, value, implicit, _scalar=yaml.ScalarNode, _sequence=yaml.SequenceNode,  # noqa: ANN001
                _get=_RESOLVED.get):
        """PyYAML's implicit resolution, memoised: the C parser calls this for every scalar, and
        the generic version (path resolvers, list concatenation) is a third of the parse time.
        (Globals are bound as defaults: 600k calls per 10k documents.)"""
        if kind is _scalar:
            if not implicit[0]:
                return _STR
            tag = _get(value)
            if tag is None:
                tag = _STR
                for candidate, regexp in _IMPLICIT.get(value[:1] if value else "", ()):
                    if regexp.match(value):
                        tag = candidate
                        break
                if len(_RESOLVED) >= _RESOLVED_MAX:
                    _RESOLVED.clear()
                _RESOLVED[value] = tag
            return tag
        return _SEQ if kind is _sequence else _MAP

    if not yaml.resolver.Resolver.yaml_path_resolvers:  # nobody registered path resolvers: skip
        # The C parser calls both hooks for every node and ignores what they return: C callables
        # that do nothing cost no Python frame (1.2M calls per 10k documents). A dict's `get`
        # takes (node, index); `tuple()` takes nothing. Neither binds as a method.
        descend_resolver = {}.get
        ascend_resolver = tuple

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "found an unhashable key", key_node.start_mark) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} in one mapping", key_node.start_mark)
            seen[key] = True
        return super().construct_mapping(node, deep=deep)


_ScalarNode, _MappingNode = yaml.ScalarNode, yaml.MappingNode


class _Unusual(Exception):
    """A node the fast builder leaves to PyYAML's constructor (merge keys, !!set, odd tags)."""


_SCALARS = {tag: fn for tag, fn in yaml.constructor.SafeConstructor.yaml_constructors.items()
            if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                       "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary")}


# what PyYAML's scalar constructors raise on a value their explicit tag does not fit
_BAD_SCALAR = (KeyError, AttributeError, IndexError, ValueError, TypeError, OverflowError)


def _unreadable(node: Any, exc: BaseException) -> yaml.constructor.ConstructorError:
    detail = f": {exc}" if isinstance(exc, ValueError) else ""
    return yaml.constructor.ConstructorError(
        None, None, f"cannot read value {node.value!r} as {node.tag.rsplit(':', 1)[-1]}{detail}", node.start_mark)


def _checked(fn: Any) -> Any:
    def construct(loader: Any, node: Any) -> Any:
        try:
            return fn(loader, node)
        except _BAD_SCALAR as exc:
            raise _unreadable(node, exc) from None
    return construct


for _tag in _SCALARS:  # PyYAML's own construction (aliases, merge keys) gets the same check
    _Loader.add_constructor(_tag, _checked(_SCALARS[_tag]))


def _build(node: Any, loader: Any, depth: int = 0) -> Any:
    """Python data from an alias-free node tree; the same values SafeConstructor builds, at a
    fraction of its cost (no generators, no per-node bookkeeping; plain strings, most of a
    manifest, are read inline without a call)."""
    cls = node.__class__
    if cls is _ScalarNode:
        tag = node.tag
        if tag == _STR:
            return node.value
        fn = _SCALARS.get(tag)
        if fn is None:
            raise _Unusual
        try:
            return fn(loader, node)
        except _BAD_SCALAR as exc:  # `!!bool maybe`, `!!float ""`: PyYAML's constructors do not check
            raise _unreadable(node, exc) from None
    if depth > MAX_DEPTH:
        raise DocumentError("document nested too deeply", node.start_mark.line, node.start_mark.column)
    depth += 1
    if cls is _MappingNode:
        if node.tag != _MAP:
            raise _Unusual
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is _ScalarNode and key_node.tag == _STR:
                key = key_node.value
            elif key_node.tag == _MERGE:
                raise _Unusual
            else:
                key = _build(key_node, loader, depth)
            try:
                duplicate = key in out
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "found an unhashable key", key_node.start_mark) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} in one mapping", key_node.start_mark)
            if value_node.__class__ is _ScalarNode and value_node.tag == _STR:
                out[key] = value_node.value
            else:
                out[key] = _build(value_node, loader, depth)
        return out
    if node.tag != _SEQ:
        raise _Unusual
    return [item.value if item.__class__ is _ScalarNode and item.tag == _STR else _build(item, loader, depth)
            for item in node.value]


def _check_expansion(root: Any) -> None:
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise yaml.constructor.ConstructorError(None, None, "document nested too deeply", node.start_mark)
        cached = sizes.get(id(node))
        if cached is not None:
            return cached
        sizes[id(node)] = 1  # cycle guard
        total = 1
        if isinstance(node.value, list):
            for item in node.value:
                if isinstance(item, tuple):
                    total += size(item[0], depth + 1) + size(item[1], depth + 1)
                else:
                    total += size(item, depth + 1)
        sizes[id(node)] = total
        if total > MAX_ALIAS_EXPANSION:
            raise yaml.constructor.ConstructorError(
                None, None, f"aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (alias bomb?)",
                node.start_mark)
        return total

    size(root, 0)


class Chunk(NamedTuple):
    """One document's text and where it starts in the file."""
    text: str
    start: int  # offset of the chunk in the file text
    line: int  # 0-based line of the chunk's first character in the file


def split_chunks(text: str) -> list[Chunk]:
    """Cut at document markers. Comment-only text that opens no document (before the first
    marker, or after a `...`) joins the next chunk; one that opens with `---` is a document of
    its own, an empty one (Helm renders a template that yields only comments as one)."""
    cuts = [0]  # in order: markers come sorted, and a `...` cut ends its line, before the next
    for start, marker in _markers(text):
        if marker == "---":
            cut = start
        else:  # `...` ends the current document: cut after its line
            cut = text.find("\n", start + 3)
            cut = len(text) if cut < 0 else cut + 1
        if cut != cuts[-1]:
            cuts.append(cut)
    cuts.append(len(text))
    chunks: list[Chunk] = []
    pending_start = None
    counted, line = 0, 0  # lines are counted on from the last chunk: one pass over the text
    for a, b in zip(cuts, cuts[1:]):
        if a == b:
            continue
        piece = text[a:b]
        start = a if pending_start is None else pending_start
        if _has_content(piece) or b == len(text) or _opens_document(piece):
            line += text.count("\n", counted, start)
            counted = start
            chunks.append(Chunk(text[start:b], start, line))
            pending_start = None
        else:
            pending_start = start
    return chunks


def _markers(text: str) -> list[tuple[int, str]]:
    """(offset, marker) of every `---`/`...` that starts a line and ends at a blank or the line's
    end, in order: what `_MARKER` matches, found with substring search (a line-anchored regex
    steps through every character of every file)."""
    found = []
    for marker in ("---", "..."):
        i = text.find(marker)
        while i >= 0:
            end = i + 3
            if (i == 0 or text[i - 1] == "\n") and (end == len(text) or text[end] in " \t\r\n"):
                found.append((i, marker))
            i = text.find(marker, i + 1)
    return sorted(found)


def _opens_document(piece: str) -> bool:
    return piece.startswith("---") and (len(piece) == 3 or piece[3] in " \t\r\n")


def _has_content(piece: str) -> bool:
    for raw in piece.splitlines():
        s = raw.strip()
        if s and not s.startswith("#") and not s.startswith("%") and s not in ("---", "..."):
            return True
        if raw.startswith("--- ") and raw[4:].strip() and not raw[4:].strip().startswith("#"):
            return True
    return False


@dataclass
class Document:
    """One YAML document of a file: its data, its text chunk and, on demand, its node tree."""

    file: str
    index: int
    chunk: Chunk
    data: Any = None
    error: DocumentError | None = None
    source: str | None = None  # Helm '# Source:' template path
    _root: Any = field(default=None, repr=False)
    _composed: bool = field(default=False, repr=False)
    _line_starts: list[int] | None = field(default=None, repr=False)  # offsets, built when asked

    @property
    def root(self) -> Any:
        """The composed node tree (positions), built the first time it is asked for."""
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self.chunk.text, Loader=_Loader)
            except (yaml.YAMLError, RecursionError):
                self._root = None
        return self._root

    def release(self) -> None:
        """Drop the node tree and the data once the document's findings have positions: a long
        run must not hold every document of the tree (positions are rebuilt if asked again)."""
        self.release_tree()
        self.data = None

    def release_tree(self) -> None:
        """Drop the node tree only: it is ten times the size of the data."""
        self._root, self._composed, self._line_starts = None, False, None

    def node_at(self, pointer: str) -> tuple[Any, Any, str]:
        """(node, key node, remaining pointer): the deepest existing node on the pointer's way."""
        node, key_node = self.root, None
        parts = split_pointer(pointer)
        for i, part in enumerate(parts):
            child = child_node(node, part)
            if child is None:
                return node, key_node, join_pointer(parts[i:])
            key_node, node = child
        return node, key_node, ""

    def position(self, pointer: str, span: tuple[int, int] | None = None, key: bool = False) -> Position:
        node, key_node, missing = self.node_at(pointer)
        block = isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style
        target = key_node if (key or missing or block) and key_node is not None else node
        if target is None:
            line = self.chunk.line + _first_content_line(self.chunk.text)
            return Position(line + 1, 1, line + 1, 1)
        start, end = target.start_mark, target.end_mark
        if not missing and span is not None and isinstance(node, yaml.ScalarNode):
            from .scalars import value_span_to_source  # local: only for tokens in strings
            mapped = value_span_to_source(self.chunk.text, node, span)
            if mapped is not None:
                a, b = mapped
                return self.offsets_position(a, b)
        if isinstance(target, (yaml.MappingNode, yaml.SequenceNode)) and not target.flow_style:
            # block collections end at the next token (past comments): point at the first line
            end_idx = self.chunk.text.find("\n", start.index)
            end_idx = len(self.chunk.text) if end_idx < 0 else end_idx
            return self.offsets_position(start.index, end_idx)
        return self.offsets_position(start.index, end.index)

    def offsets_position(self, a: int, b: int) -> Position:
        """Lines end at `\n` only. A small document counts them from its start; a large one looks
        them up in its line starts, built once: counting for each finding was quadratic in one
        large document (5,000 containers: ~7 s of a 10 s lint), and building them for every
        small document with a finding cost more than counting (+1% instructions, 3k bench documents)."""
        base, text = self.chunk.line, self.chunk.text
        if len(text) <= _COUNTED_CHUNK:
            l1 = text.count("\n", 0, a)
            l2 = l1 + text.count("\n", a, b)
            return Position(base + l1 + 1, a - text.rfind("\n", 0, a), base + l2 + 1, b - text.rfind("\n", 0, b))
        if self._line_starts is None:
            self._line_starts = [0, *accumulate(len(line) + 1 for line in text.split("\n")[:-1])]
        starts = self._line_starts
        l1, l2 = bisect_right(starts, a) - 1, bisect_right(starts, b) - 1
        return Position(base + l1 + 1, a - starts[l1] + 1, base + l2 + 1, b - starts[l2] + 1)


def _first_content_line(text: str) -> int:
    m = _CONTENT_LINE.search(text)
    return text.count("\n", 0, m.start()) if m else 0


def split_pointer(pointer: str) -> list[str]:
    if not pointer:
        return []
    parts = pointer.split("/")[1:]
    return [p.replace("~1", "/").replace("~0", "~") for p in parts] if "~" in pointer else parts


def join_pointer(parts: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def child_node(node: Any, part: str) -> tuple[Any, Any] | None:
    """(key node, value node) of a mapping entry or (None, item) of a sequence item."""
    if isinstance(node, _MappingNode):
        for k, v in node.value:
            if k.value == part and isinstance(k, _ScalarNode):  # a collection's value is a list
                return k, v
        return None
    if isinstance(node, yaml.SequenceNode):
        if part.isdigit() and int(part) < len(node.value):
            return None, node.value[int(part)]
        return None
    return None


def check_event_depth(text: str, limit: int) -> None:
    """Nesting from the event stream, before composing: libyaml's composer recurses in C and
    crashes the process on a few tens of thousands of `[` (or `- - -`)."""
    events, depth = _Loader(text), 0
    try:
        while events.check_event():
            event = events.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > limit:
                    raise DocumentError("document nested too deeply",
                                        event.start_mark.line, event.start_mark.column)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        events.dispose()


def _may_nest_too_deeply(text: str) -> bool:
    """Cheap bound on nesting: every level opens with one of `[{-?:`. Only a text that could
    exceed COMPOSE_DEPTH pays for the event scan."""
    if len(text) <= COMPOSE_DEPTH:
        return False
    return sum(text.count(c) for c in "[{-?:") > COMPOSE_DEPTH


def parse_chunk(chunk: Chunk, check_bomb: bool) -> tuple[Any, Any]:
    """(data, node tree) of one document: composed once in C, the tree kept for positions."""
    if _may_nest_too_deeply(chunk.text):
        check_event_depth(chunk.text, COMPOSE_DEPTH)
    loader = _Loader(chunk.text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        if check_bomb:  # anchors and aliases: bound the expansion, let PyYAML share the objects
            _check_expansion(root)
            return loader.construct_document(root), root
        try:
            return _build(root, loader), root
        except _Unusual:
            return loader.construct_document(root), root
    finally:
        loader.dispose()


def error_from(exc: BaseException) -> DocumentError:
    if isinstance(exc, RecursionError):
        return DocumentError("document nested too deeply")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context and problem else str(problem)
    message = " ".join(message.split())
    if "maximum nesting depth" in message:  # libyaml ≥ 0.2.5's own limit: say it as we do
        message = "document nested too deeply"
    if mark is not None:
        return DocumentError(message, mark.line, mark.column)
    return DocumentError(message)


def parse_documents(file: str, text: str) -> Iterator[Document]:
    """Every document of a file; broken ones carry `error` and no data."""
    check_bomb = "*" in text and "&" in text
    index = 0
    for chunk in split_chunks(text):
        root = None
        try:
            data, root = parse_chunk(chunk, check_bomb)
            error = None
        except DocumentError as exc:
            data, error = None, exc
        except (yaml.YAMLError, RecursionError) as exc:
            data, error = None, error_from(exc)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. bad timestamps
            data, error = None, DocumentError(f"cannot read value: {exc}")
        if data is None and error is None:
            continue
        doc = Document(file=file, index=index, chunk=chunk, data=data, error=error,
                       _root=root, _composed=root is not None)
        m = _SOURCE.search(chunk.text) if "Source:" in chunk.text else None  # Helm output only
        if m and m.start() < _content_start(chunk.text):
            doc.source = m.group(1)
        index += 1
        yield doc


def _content_start(text: str) -> int:
    for m in _CONTENT_LINE.finditer(text):
        line_end = text.find("\n", m.start())
        line = text[m.start(): len(text) if line_end < 0 else line_end].strip()
        if line in ("---", "...") or line.startswith("--- #"):
            continue
        return m.start()
    return len(text)


def load_bounded(text: str, extra_chars: int = 1 << 20) -> Any:
    """The data of a single-document YAML file other than a manifest (the configuration, an
    annotation's value), read with the manifests' guards: safe tags, no duplicate keys, alias
    expansion and depth bounded. It also refuses recursive aliases and aliases whose expanded
    scalars exceed the text by `extra_chars` (a quadratic blowup that repeats one big string),
    because callers walk or print these values. Every problem is a DocumentError."""
    limit = len(text) + extra_chars

    def walk(node: Any, ancestors: set[int], chars: dict[int, int]) -> int:
        """Expanded scalar characters under `node`, memoised per node (shared, not expanded)."""
        if id(node) in ancestors:
            raise DocumentError("an alias refers to a node that contains it (recursive data)",
                                node.start_mark.line, node.start_mark.column)
        total = chars.get(id(node))
        if total is None:
            if isinstance(node, yaml.ScalarNode):
                total = len(node.value)
            else:
                ancestors.add(id(node))
                total = 0
                for item in node.value:  # a loop, not sum(generator): one frame per level
                    for child in (item if isinstance(item, tuple) else (item,)):
                        total += walk(child, ancestors, chars)
                ancestors.discard(id(node))
            chars[id(node)] = total
            if total > limit:
                raise DocumentError(f"aliases expand to more than {limit} characters (alias bomb?)",
                                    node.start_mark.line, node.start_mark.column)
        return total

    loader = _Loader(text)
    try:
        check_event_depth(text, MAX_DEPTH)
        root = loader.get_single_node()
        if root is None:
            return None
        _check_expansion(root)  # node count and depth first: the walk below recurses
        walk(root, set(), {})
        return loader.construct_document(root)
    except (yaml.YAMLError, RecursionError) as exc:
        raise error_from(exc) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. bad timestamps
        raise DocumentError(f"cannot read value: {exc}") from None
    finally:
        loader.dispose()
