"""Kustomize sources: `kubectl kustomize DIR` rendered and linted as one stream.

Overlays are only meaningful after rendering (patches are partial objects), so a directory holding
a kustomization is rendered rather than walked. Positions are in the rendered stream; where the
kustomization sets `buildMetadata: [originAnnotations]`, kustomize records each object's origin in
`config.kubernetes.io/origin`, and an engine filter turns that into the finding's `source` (as Helm's
`# Source:` comment does), with a position in the origin file when the field exists there.
"""
from __future__ import annotations

import os
import shutil
from typing import Any

from .documents import DocumentError, load_bounded, parse_documents
from .engine import FileResult, register_filter
from .settings import Settings
from .sources import MAX_FILE_BYTES, SourceError, SourceText, decode

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
RENDER_TIMEOUT = 120  # seconds; remote bases can be slow, a hang must not be forever
_rendered_roots: dict[str, str] = {}  # display name of a rendered stream → kustomization directory


def kustomization_file(directory: str) -> str | None:
    for name in KUSTOMIZATION_NAMES:
        if os.path.isfile(os.path.join(directory, name)):
            return name
    return None


def kubectl_binary() -> str | None:
    return shutil.which("kubectl")


def render(directory: str, max_bytes: int = MAX_FILE_BYTES) -> SourceText:
    """Run `kubectl kustomize DIR` (an argument list, never a shell) and wrap its output."""
    import subprocess  # only when a kustomization is rendered
    name = kustomization_file(directory)
    if name is None:
        raise SourceError(f"{directory}: no kustomization.yaml in this directory")
    kubectl = kubectl_binary()
    if kubectl is None:
        raise SourceError(f"{directory}: rendering a kustomization needs kubectl on PATH (install kubectl, "
                          f"or pipe `kustomize build {directory} | cslint -`)")
    try:
        proc = subprocess.run([kubectl, "kustomize", directory], capture_output=True, timeout=RENDER_TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        raise SourceError(f"{directory}: kubectl kustomize took over {RENDER_TIMEOUT}s") from None
    except OSError as exc:
        raise SourceError(f"{directory}: cannot run kubectl: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        message = " ".join(proc.stderr.decode("utf-8", "replace").split()) or f"exit code {proc.returncode}"
        raise SourceError(f"{directory}: kubectl kustomize failed: {message}")
    display = f"{os.path.join(directory, name)} (rendered)"
    _rendered_roots[display] = directory
    return decode(display, proc.stdout, max_bytes)


# -- origins -------------------------------------------------------------------------------------
def origin_path(data: Any) -> str | None:
    """The local file an object came from, per kustomize's origin annotation (None for remote)."""
    meta = data.get("metadata") if isinstance(data, dict) else None
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    raw = annotations.get(ORIGIN_ANNOTATION) if isinstance(annotations, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        origin = load_bounded(raw)  # user text: bounded like the manifest around it
    except DocumentError:
        return None
    if not isinstance(origin, dict) or origin.get("repo") or not isinstance(origin.get("path"), str):
        return None
    return origin["path"]


def attach_origins(results: list[FileResult], settings: Settings) -> None:
    """Engine filter: findings in objects with an origin annotation get it as their source."""
    del settings
    for result in results:
        text = result.source.text
        if not text or ORIGIN_ANNOTATION not in text or not result.findings:
            continue
        root = _rendered_roots.get(result.source.path) or os.path.dirname(result.source.real_path or ".")
        for f in result.findings:
            doc = f.extra.get("document")
            if doc is None or doc.data is None:
                continue
            if doc.source is None:
                path = origin_path(doc.data)
                if path is None:
                    continue
                doc.source = os.path.normpath(os.path.join(root, path))
            if "source_position" not in f.extra and doc.source and os.path.isfile(doc.source):
                f.extra["source_position"] = position_in_origin(doc.source, doc.data, f.path)


def position_in_origin(path: str, rendered: dict, pointer: str) -> Any:
    """The position of `pointer` in the origin file's matching object, when it exists there.

    Kustomize may rename the object (namePrefix), so the match is by kind and a name contained
    in the rendered name; a pointer that patches added is not in the origin: None."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return None
    kind = rendered.get("kind")
    name = (rendered.get("metadata") or {}).get("name") or ""
    for doc in parse_documents(path, text):
        data = doc.data if isinstance(doc.data, dict) else {}
        other = (data.get("metadata") or {}).get("name") if isinstance(data.get("metadata"), dict) else None
        if data.get("kind") == kind and isinstance(other, str) and other in str(name):
            _, _, missing = doc.node_at(pointer)
            return None if missing else doc.position(pointer)
    return None


register_filter(attach_origins, applies=lambda result, settings: ORIGIN_ANNOTATION in (result.source.text or ""))
