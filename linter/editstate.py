"""What the text editor remembers between the operations of one batch, and the two ways an
operation changes that memory wholesale: a replace that falls back on another way of writing
(`snapshot` / `restore`), and a replace of a collection that earlier operations edited inside
(`forget_inside`: the new value supersedes those edits, so they are dropped, not merged).

Also the guard for aliases: a node an alias (`*a`) refers to is one node at two places of the
data but one place of the text, so no edit at it or under it can be written exactly; the same
holds for the mappings a merge key (`<<: *a`) joins.
"""
from __future__ import annotations

from typing import Any

import yaml

from .textspan import EditError

_BY_NODE = ("sequences", "plans", "key_counts", "emptied", "heads", "added_keys")


def _walk_ids(node: Any) -> tuple[set[int], set[int], set[int]]:
    """(ids of the node, its keys and everything below it, each once; the ids met more than once:
    the nodes an alias refers to; the mappings a merge key joins). The constructor flattens
    `<<: *a` in place, so the mapping that says `<<` holds the very key nodes of the one it names,
    and that one is no longer below the alias: text written in either is read at the other, or
    belongs to the other. Iterative: aliases may loop and documents may be deep."""
    seen: set[int] = set()
    shared: set[int] = set()
    merged: set[int] = set()
    holders: dict[int, int] = {}  # key node → the first mapping met holding it
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            shared.add(id(n))
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                holder = holders.setdefault(id(k), id(n))
                if holder != id(n):
                    merged |= {holder, id(n)}
                stack += [k, v]
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return seen, shared, merged


def subtree_ids(node: Any) -> set[int]:
    return _walk_ids(node)[0]


_last_shared: tuple[Any, dict[int, str]] | None = None  # the last tree's (read only by callers)


def shared_ids(root: Any) -> dict[int, str]:
    """The nodes an edit may not touch, each with the reason: those that occur more than once in
    the tree (an alias refers to them) and the mappings a merge key joins. Remembered for the
    last tree: the fixer tries each refused fix of a document alone, one editor each."""
    global _last_shared
    if _last_shared is not None and _last_shared[0] is root:
        return _last_shared[1]
    _, shared, merged = _walk_ids(root)
    reasons = dict.fromkeys(merged, "cannot edit a node that an alias refers to (a merge key << joins it to another mapping)")
    reasons.update(dict.fromkeys(shared, "cannot edit a node that an alias refers to"))
    _last_shared = (root, reasons)
    return reasons


class EditState:
    """Mixed into the text editor: the batch's `edits` and the bookkeeping named in _BY_NODE
    (dicts keyed by node id) plus `removed_keys`, `root` and `shared`."""

    def snapshot(self) -> tuple:
        copies = []
        for name in _BY_NODE:
            value = getattr(self, name)
            copies.append({k: (v.copy() if hasattr(v, "copy") else v) for k, v in value.items()})
        return list(self.edits), copies, set(self.removed_keys)

    def restore(self, saved: tuple) -> None:
        edits, copies, removed = saved
        self.edits, self.removed_keys = edits, removed
        for name, value in zip(_BY_NODE, copies):
            setattr(self, name, value)

    def forget_inside(self, node: Any) -> None:
        """Drop what earlier operations of the batch did in or under `node`, which is about to be
        replaced: the replace writes the node's new value over its original text."""
        if not self.edits and not any(getattr(self, name) for name in _BY_NODE):
            return
        inside = subtree_ids(node)
        self.edits = [e for e in self.edits if e.owner not in inside]
        for name in _BY_NODE:
            setattr(self, name, {k: v for k, v in getattr(self, name).items() if k not in inside})
        self.removed_keys -= inside

    def refuse_shared(self, node: Any, whole: bool = True) -> None:
        """EditError when rewriting `node` (with all below it when `whole`) would change what an
        alias elsewhere refers to, or would write at the alias's anchor instead of at the alias."""
        if self.shared is None:
            self.shared = shared_ids(self.root)
        if not self.shared:
            return
        hit = {id(node)} & self.shared.keys() or whole and subtree_ids(node) & self.shared.keys()
        if hit:
            raise EditError(self.shared[min(hit)])

    def refuse_shared_path(self, path: list[Any]) -> None:
        """EditError when an edit lies under a node an alias refers to (`path`: the nodes from the
        root to the edited one). A path through an alias or a merge key (`<<: *a`) resolves into
        the anchor's nodes, so text written there changes every place that refers to them."""
        for node in path:
            self.refuse_shared(node, whole=False)
