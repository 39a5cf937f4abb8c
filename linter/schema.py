"""Schema validation of built-in Kubernetes kinds against kubernetes-validate's bundled JSON Schemas.

kubernetes-validate is used only as a *data source*: its `validate()` re-reads ~1.4 MB of
definitions and rebuilds a validator on every call (~7 ms) and stops at the first error, whereas a
compiled validator cached per (version, strict, apiVersion, kind) reports every error in a few
microseconds. Everything heavy is imported inside functions, so `import cslint.schema` is free for
runs that never validate.

Known limits of the bundled schemas (cslint's own rules cover them): every type also accepts
`null`; names, quantities and most enums carry no pattern, so `cpu: "abc"` or
`imagePullPolicy: Sometimes` pass; non-strict schemas accept unknown fields.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Iterable, NamedTuple

DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"

# Patterns stay strings: `re` compiles and caches them on first use, not at import.
_VERSION = r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?"
_BUNDLED_DIR = r"v(\d+)\.(\d+)\.0-local"
# Both fields end up in a file name: anything else cannot be a built-in kind.
_KIND = r"[A-Za-z][A-Za-z0-9]*"
_API_VERSION = r"(?:[a-z0-9][a-z0-9.-]*/)?v[0-9][a-z0-9]*"
_PLAIN_KEY = r"[A-Za-z_$][A-Za-z0-9_$-]*"
_SHORT = 80
_LONGEST_MESSAGE = 240


class SchemaError(NamedTuple):
    """One schema violation: where in the object, and what is wrong there, on one line."""

    path: tuple[str | int, ...]
    message: str


def validate_object(obj: Any, k8s_version: str = "1.33", strict: bool = False) -> list[SchemaError] | None:
    """Every schema error of one manifest object; None when there is no bundled schema for it.

    None means "not checked": custom resources, non-dict input and objects without a string
    `kind` and `apiVersion`. `strict` uses the schemas that reject unknown fields.
    """
    if not isinstance(obj, dict):
        return None
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return None
    # one cached call per object: the name checks live inside the cache
    validator = _validator(resolve_version(k8s_version), bool(strict), api_version, kind)
    return None if validator is None else validator.errors(obj)


@functools.lru_cache(maxsize=32)
def resolve_version(k8s_version: str) -> str:
    """The bundled schema version ("1.33") used for a cluster version ("v1.33.2", "1.33").

    The newest bundled minor not newer than the request; a request newer than every bundled
    version gets the newest, one older than every bundled version gets the oldest.
    """
    if not isinstance(k8s_version, str):
        # YAML reads an unquoted 1.30 as the float 1.3, which would silently mean 1.3.
        raise TypeError(f"Kubernetes version must be a string such as '1.30', got {k8s_version!r}")
    match = re.fullmatch(_VERSION, k8s_version.strip())
    if match is None:
        raise ValueError(f"not a Kubernetes version: {k8s_version!r} (expected e.g. 1.33 or v1.33.2)")
    wanted = (int(match[1]), int(match[2]))
    bundled = _bundled_versions()
    chosen = [v for v in bundled if v <= wanted] or [bundled[0]]
    major, minor = chosen[-1]
    return f"{major}.{minor}"


# --- where the schema files live -------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _schema_root() -> Path:
    """The `kubernetes-json-schema` directory, found without importing kubernetes_validate.

    Importing the package costs ~90 ms (it imports jsonschema), which the jsonschema_rs path
    never needs.
    """
    import importlib.util

    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None:
        raise ImportError("schema validation needs kubernetes-validate: pip install kubernetes-validate")
    for location in spec.submodule_search_locations or ():
        root = Path(location) / "kubernetes-json-schema"
        if root.is_dir():
            return root
    import importlib.resources  # unusual installs: let the package say where its data is

    return Path(str(importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"))


@functools.lru_cache(maxsize=1)
def _bundled_versions() -> tuple[tuple[int, int], ...]:
    """Bundled (major, minor) pairs, compared as numbers (upstream compares strings)."""
    found = {
        (int(m[1]), int(m[2]))
        for entry in _schema_root().iterdir()
        if (m := re.fullmatch(_BUNDLED_DIR, entry.name))
    }
    if not found:
        raise RuntimeError(f"no bundled schemas under {_schema_root()}")
    return tuple(sorted(found))


def _schema_dir(version: str, strict: bool) -> Path:
    return _schema_root() / f"v{version}.0-local{'-strict' if strict else ''}"


@functools.lru_cache(maxsize=256)
def _kind_schema(version: str, strict: bool, api_version: str, kind: str) -> dict | None:
    """The top-level schema of a kind, or None when none is bundled for this exact group.

    Files are named by kind and group *prefix* (`apps.example.com/v1` and `apps/v1` both map to
    `deployment-apps-v1.json`), and helper types such as `affinity-v1.json` sit beside the
    kinds, so the schema's own group-version-kind list decides. The kind is matched ignoring
    case so that `kind: deployment` is reported by the schema's enum rather than skipped.
    """
    group, _, ver = api_version.rpartition("/")
    prefix = f"{group.split('.')[0]}-" if group else ""
    path = _schema_dir(version, strict) / f"{kind.lower()}-{prefix}{ver}.json"
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    declared = schema.get("x-kubernetes-group-version-kind") or ()
    wanted = (group, ver, kind.lower())
    if not any((g.get("group"), g.get("version"), str(g.get("kind")).lower()) == wanted for g in declared):
        return None
    return schema


@functools.lru_cache(maxsize=2)
def _definitions(version: str, strict: bool) -> dict:
    """The whole definitions file, for python-jsonschema (objects jsonschema_rs cannot take)."""
    return json.loads(_definitions_path(version, strict).read_text(encoding="utf-8"))


def _definitions_path(version: str, strict: bool) -> Path:
    return _schema_dir(version, strict) / "_definitions.json"


class _DefinitionIndex:
    """`_definitions.json` decoded one definition at a time.

    The file is ~1.4 MB of JSON holding ~700 definitions; a pod-bearing kind reaches ~110 of
    them, a ConfigMap five. Decoding the whole file took 15–20 ms of a one-file run (a tenth of
    it) and handing it all to the Rust side another ~12 ms. kubernetes-validate writes the file
    indented by two, so each definition starts a line at four spaces; the index records where
    and decodes a definition when a schema first reaches it. A file laid out otherwise (or one
    the index cannot read) is decoded whole: the index is a shortcut, never a second parser.
    """

    _ENTRY = re.compile(r'\n    "')  # a key of "$defs": nothing else sits at that depth
    _TOP = re.compile(r'\n  "')  # "$defs", "$schema", "$id"

    def __init__(self, text: str):
        self._text = text
        self._decoder = json.JSONDecoder()
        self._defs: dict[str, Any] = {}
        self._starts: dict[str, int] = {}
        self.top: dict[str, Any] = {}  # the file's keys besides "$defs"
        if not self._index():  # decoded whole: every definition is in `_defs` from the start
            whole = json.loads(text)
            self._defs = dict(whole.get("$defs") or {})
            self.top = {k: v for k, v in whole.items() if k != "$defs"}

    def _index(self) -> bool:
        text, decode = self._text, self._decoder.raw_decode
        defs_at = None
        try:
            for m in self._TOP.finditer(text):
                key, end = decode(text, m.end() - 1)
                if key == "$defs":
                    defs_at = self._value_start(end)
                else:
                    self.top[key], _ = decode(text, self._value_start(end))
            if defs_at is None:
                raise ValueError("no $defs at the expected depth")
            for m in self._ENTRY.finditer(text, defs_at):
                key, end = decode(text, m.end() - 1)
                self._starts[key] = self._value_start(end)
        except (ValueError, IndexError):
            self._starts, self.top = {}, {}
        return bool(self._starts)

    def _value_start(self, end: int) -> int:
        text = self._text
        while text[end] in " :":
            end += 1
        return end

    def __contains__(self, name: str) -> bool:
        return name in self._starts or name in self._defs

    def get(self, name: str) -> Any:
        found = self._defs.get(name)
        if found is None and name in self._starts:
            found, _ = self._decoder.raw_decode(self._text, self._starts[name])
            self._defs[name] = found
        return found


@functools.lru_cache(maxsize=2)
def _definition_index(version: str, strict: bool) -> _DefinitionIndex:
    return _DefinitionIndex(_definitions_path(version, strict).read_text(encoding="utf-8"))


# --- compiled validators ---------------------------------------------------------------------


def _rs_registry_for(version: str, strict: bool, schema: dict) -> Any:
    """A registry holding only the definitions `schema` reaches (one per kind: ~4 ms for a
    pod-bearing kind, against ~30 ms for decoding and registering all of them)."""
    import jsonschema_rs

    index = _definition_index(version, strict)
    reached: dict[str, Any] = {}
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and "#/$defs/" in ref:
                name = ref.rsplit("#/$defs/", 1)[1]
                if name not in reached and name in index:
                    reached[name] = index.get(name)
                    pending.append(reached[name])
            pending.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            pending.extend(v for v in node if isinstance(v, (dict, list)))
    return jsonschema_rs.Registry([(DEFINITIONS_URI, {**index.top, "$defs": reached})])


def _rs_validator(version: str, strict: bool, schema: dict) -> Any | None:
    """A jsonschema_rs validator, or None when that backend is missing or cannot compile it."""
    try:
        import jsonschema_rs

        registry = _rs_registry_for(version, strict, schema)
        try:
            return jsonschema_rs.Draft202012Validator(schema, registry=registry, offline=True)
        except TypeError:  # releases before `offline`: the registry already holds every $ref
            return jsonschema_rs.Draft202012Validator(schema, registry=registry)
    except Exception:  # noqa: BLE001 - missing, too old or unresolvable $ref: use the reference one
        return None


@functools.lru_cache(maxsize=2)
def _python_registry(version: str, strict: bool) -> Any:
    from referencing import Registry, Resource

    return Registry().with_resource(DEFINITIONS_URI, Resource.from_contents(_definitions(version, strict)))


@functools.lru_cache(maxsize=256)
def _python_validator(version: str, strict: bool, api_version: str, kind: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = _kind_schema(version, strict, api_version, kind)
    return Draft202012Validator(schema, registry=_python_registry(version, strict))


class _CompiledSchema:
    """One kind's validator: jsonschema_rs when it compiled, else python-jsonschema.

    jsonschema_rs only accepts JSON values, so objects holding YAML dates, bytes or non-string
    keys go to python-jsonschema, which reports those values as type errors.
    """

    def __init__(self, key: tuple[str, bool, str, str], rs_validator: Any | None) -> None:
        self.key = key
        self.rs_validator = rs_validator

    def errors(self, obj: dict) -> list[SchemaError]:
        if self.rs_validator is not None:
            try:
                if self.rs_validator.is_valid(obj):  # most objects: cheaper than an empty iteration
                    return []
                return _collect(_from_rs(e) for e in self.rs_validator.iter_errors(obj))
            except ValueError:
                pass
        return _collect(_from_python(e) for e in _python_validator(*self.key).iter_errors(obj))


@functools.lru_cache(maxsize=256)
def _validator(version: str, strict: bool, api_version: str, kind: str) -> _CompiledSchema | None:
    if not re.fullmatch(_KIND, kind) or not re.fullmatch(_API_VERSION, api_version):
        return None
    schema = _kind_schema(version, strict, api_version, kind)
    if schema is None:
        return None
    return _CompiledSchema((version, strict, api_version, kind), _rs_validator(version, strict, schema))


# --- errors into one-line messages -----------------------------------------------------------


class _RawError(NamedTuple):
    """What both backends can tell about an error, before it becomes a message."""

    path: tuple[str | int, ...]
    keyword: str
    detail: Any  # the types, the options, the missing or the unexpected properties
    instance: Any
    message: str  # the backend's own wording, for keywords without a message of ours


_RS_DETAIL = {"type": "types", "enum": "options", "required": "property", "additionalProperties": "unexpected"}


def _from_rs(error: Any) -> _RawError:
    kind = error.kind
    keyword = getattr(kind, "name", "")
    detail = getattr(kind, _RS_DETAIL.get(keyword, ""), None)
    return _RawError(tuple(error.instance_path), keyword, detail, error.instance, error.message)


def _from_python(error: Any) -> _RawError:
    keyword, detail = error.validator, None
    if keyword in ("type", "enum"):
        detail = error.validator_value
    elif keyword == "required":
        match = re.match(r"(.*) is a required property$", error.message)
        detail = _python_literal(match[1]) if match else None
    elif keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        detail = [key for key in error.instance if key not in known]
    return _RawError(tuple(error.absolute_path), keyword, detail, error.instance, error.message)


def _python_literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def _collect(raw_errors: Iterable[_RawError]) -> list[SchemaError]:
    """One-line errors, ordered by path then message, so both backends give the same list."""
    found = []
    for raw in raw_errors:
        # IntOrString and Quantity are oneOf two null-tolerant types, so null matches both:
        # a schema artefact, not a manifest error (the API server drops the null field).
        if raw.keyword == "oneOf" and raw.instance is None:
            continue
        found.append(SchemaError(raw.path, _message(raw)))
    return sorted(found, key=_order)


def _order(error: SchemaError) -> tuple:
    path = tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in error.path)
    return path, error.message


def _message(raw: _RawError) -> str:
    text = _describe(raw) or _shorten_backend_message(raw)
    where = dotted_path(raw.path)
    return f"{where}: {text}" if where else text


def _describe(raw: _RawError) -> str | None:
    """Our wording for the keywords Kubernetes schemas use, identical for both backends."""
    if raw.keyword == "type" and raw.detail is not None:
        types = [raw.detail] if isinstance(raw.detail, str) else list(raw.detail)
        shown = [t for t in types if t != "null"] or types  # every type is null-tolerant
        return f"{_short(raw.instance)} is not of type {' or '.join(repr(t) for t in shown)}"
    if raw.keyword == "enum" and raw.detail is not None:
        return f"{_short(raw.instance)} is not one of {_short(list(raw.detail))}"
    if raw.keyword == "required" and raw.detail is not None:
        return f"{_short(raw.detail)} is a required property"
    if raw.keyword == "additionalProperties" and raw.detail:
        names = ", ".join(_short(name) for name in raw.detail)
        return f"unknown field{'s' if len(raw.detail) > 1 else ''} {names}"
    if raw.keyword == "oneOf":
        return f"{_short(raw.instance)} is not valid under any of the given schemas"
    return None


def _shorten_backend_message(raw: _RawError) -> str:
    text = raw.message
    for rendering in _renderings(raw.instance):
        if len(rendering) > _SHORT and rendering in text:
            text = text.replace(rendering, _short(raw.instance), 1)
            break
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_MESSAGE else text[: _LONGEST_MESSAGE - 3] + "..."


def _renderings(instance: Any) -> list[str]:
    """How each backend spells the instance in its messages: Python repr, or compact JSON."""
    shown = [repr(instance)]
    try:
        shown.append(json.dumps(instance, separators=(",", ":"), sort_keys=True, ensure_ascii=False))
    except (TypeError, ValueError):
        pass
    return shown


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


def dotted_path(path: Iterable[str | int]) -> str:
    """`spec.template.spec.containers[0].image`; keys that are not plain names are bracketed."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and re.fullmatch(_PLAIN_KEY, part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out
