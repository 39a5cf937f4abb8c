"""Builders of RFC 6902 operations for the shapes rules fix most: env vars, volumes, mounts.

Each builder looks at the current data so that its operations apply cleanly: it adds a missing
list with its first item, appends to an existing list, or replaces a wrong value in place.
"""
from __future__ import annotations

from typing import Any, Iterable

from .workloads import Container, PodTemplate, as_dict, as_list


def op_add(path: str, value: Any) -> dict[str, Any]:
    return {"op": "add", "path": path, "value": value}


def op_replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


def op_remove(path: str) -> dict[str, Any]:
    return {"op": "remove", "path": path}


def append_ops(parent_path: str, parent: dict, key: str, items: list[Any]) -> list[dict[str, Any]]:
    """Append items to `parent[key]`, creating the list when it is missing (or not a list)."""
    if isinstance(parent.get(key), list):
        return [op_add(f"{parent_path}/{key}/-", item) for item in items]
    if key in parent:
        return [op_replace(f"{parent_path}/{key}", list(items))]
    return [op_add(f"{parent_path}/{key}", list(items))]


def set_key_ops(parent_path: str, parent: dict, key: str, value: Any) -> list[dict[str, Any]]:
    op = op_replace if key in parent else op_add
    return [op(f"{parent_path}/{escape(key)}", value)]


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def set_env_ops(c: Container, values: dict[str, str]) -> list[dict[str, Any]]:
    """Give each env var its literal value: correct it in place, or append it."""
    ops: list[dict[str, Any]] = []
    new_items: list[dict[str, str]] = []
    for name, value in values.items():
        entry = c.env.get(name)
        if entry is None:
            new_items.append({"name": name, "value": value})
            continue
        index, current = entry
        item = as_list(c.data.get("env"))[index]
        if current == value and "valueFrom" not in item:
            continue
        if "valueFrom" in item:
            ops.append(op_replace(c.at("env", index), {"name": name, "value": value}))
        else:
            ops.extend(set_key_ops(c.at("env", index), item, "value", value))
    if new_items:
        ops.extend(append_ops(c.pointer, c.data, "env", new_items))
    return ops


def unique_volume_name(pod: PodTemplate, wanted: str, taken: Iterable[str] = ()) -> str:
    """`wanted`, or `wanted-2`, … : a name that no volume of the pod, nor any of `taken`, has."""
    names = set(pod.volumes) | set(taken)
    if wanted not in names:
        return wanted
    i = 2
    while f"{wanted}-{i}" in names:
        i += 1
    return f"{wanted}-{i}"


def add_volume_and_mount_ops(c: Container, volume: dict[str, Any], mount: dict[str, Any]) -> list[dict[str, Any]]:
    pod = c.template
    return (append_ops(pod.spec_pointer, pod.spec, "volumes", [volume])
            + append_ops(c.pointer, c.data, "volumeMounts", [mount]))


def resources_path(c: Container, section: str) -> tuple[list[dict[str, Any]], str]:
    """Operations creating `resources.<section>` if needed, and the section's pointer."""
    res = c.data.get("resources")
    if not isinstance(res, dict):
        return [op_add(c.at("resources"), {section: {}})], c.at("resources", section)
    if not isinstance(res.get(section), dict):
        return [op_add(c.at("resources", section), {})], c.at("resources", section)
    return [], c.at("resources", section)


def set_resource_ops(c: Container, section: str, name: str, value: str) -> list[dict[str, Any]]:
    res = as_dict(c.data.get("resources"))
    sec = res.get(section)
    if not isinstance(res, dict) or "resources" not in c.data:
        return [op_add(c.at("resources"), {section: {name: value}})]
    if not isinstance(sec, dict):
        return [op_add(c.at("resources", section), {name: value})]
    return set_key_ops(c.at("resources", section), sec, name, value)
