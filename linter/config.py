"""Configuration discovery and parsing (`.cslint.yaml`, `[tool.cslint]` in pyproject.toml).

The nearest configuration from the working directory upwards wins, whole (files are not merged,
as in ruff). Every key is validated here, so a typo is an exit-2 error naming the file and key
instead of a silently ignored threshold. Returns Settings plus where each value came from.
"""
from __future__ import annotations

import os
import re
import stat
from typing import Any, Callable, NamedTuple

from .model import Severity
from .quantity import parse_quantity
from .settings import GOALS, Settings

CONFIG_NAMES = (".cslint.yaml", ".cslint.yml")
PYPROJECT = "pyproject.toml"
DEFAULT_ORIGIN = "default"
# far above any configuration; bounds a device given to --config that never ends (/dev/zero)
MAX_CONFIG_BYTES = 10 << 20
_CODE = re.compile(r"^(?:[A-Z]+[0-9]*|ALL)$")
_VERSION = re.compile(r"^1\.\d{1,2}$")


class ConfigError(Exception):
    """A configuration file that cannot be used (exit code 2), naming the key and the file."""


class Key(NamedTuple):
    """One configuration key: the Settings field (or `extra` entry) it sets and how to read it."""

    field: str
    parse: Callable[[Any], Any]
    extra: bool = False  # stored in Settings.extra for issues built on the core


def _shown(value: Any) -> str:
    """repr() cut short: a value in an error message may be shared data aliased many times, and
    the message must stay one readable line."""
    import reprlib
    short = reprlib.Repr()
    short.maxlevel, short.maxstring, short.maxother = 3, 30, 30
    short.maxlist = short.maxdict = short.maxtuple = short.maxset = 4
    return short.repr(value)


# -- value parsers: raise ValueError with the problem; the caller adds file and key ------------
def _codes(value: Any) -> tuple[str, ...]:
    items = value.replace(" ", ",").split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(c, str) for c in items):
        raise ValueError("expected a list of rule codes or prefixes (e.g. [CS4, CS201])")
    codes = tuple(c.strip().upper() for c in items if c.strip())
    bad = [c for c in codes if not _CODE.match(c)]
    if bad:
        raise ValueError(f"not a rule code or prefix: {', '.join(bad)}")
    return codes


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {_shown(value)}")
        return value
    return parse


def _profile(value: Any) -> str:
    """Profiles come from the rules' tags (see linter/profiles.py), so a new cloud needs no edit here."""
    from .profiles import known_profiles
    return _choice(known_profiles())(value)


def _severity(value: Any) -> Severity:
    if not isinstance(value, str):
        raise ValueError("expected error, warning or info")
    return Severity.parse(value)


def _bytes(value: Any) -> int:
    q = parse_quantity(value)
    if q is None or q <= 0 or q.denominator != 1:
        raise ValueError(f"expected a positive byte quantity such as 16Gi, got {_shown(value)}")
    return int(q)


def _seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive number of seconds, got {_shown(value)}")
    return value


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError(f"expected a number in (0, 1], got {_shown(value)}")
    return float(value)


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {_shown(value)}")
    return value


def parse_k8s_version(value: Any) -> str:
    if isinstance(value, float):  # YAML reads 1.30 as 1.3
        raise ValueError(f"quote the version (\"{value}\" as a string), a number loses trailing zeros")
    text = value if isinstance(value, str) else ""
    if not _VERSION.match(text):
        raise ValueError(f"expected a Kubernetes minor version such as \"1.33\", got {_shown(value)}")
    return text


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return tuple(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_shown(value)}")
    return value


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive integer, got {_shown(value)}")
    return value


def _severity_map(value: Any) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of rule code to error, warning or info")
    out = []
    for code, sev in value.items():
        if not isinstance(code, str) or not re.match(r"^[A-Za-z]+[0-9]+$", code):
            raise ValueError(f"{_shown(code)} is not a rule code")
        try:
            out.append((code.upper(), _severity(sev)))
        except ValueError as exc:
            raise ValueError(f"{code}: {exc}") from None
    return tuple(out)


def _per_file_ignores(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of glob to rule codes")
    out = []
    for glob, codes in value.items():
        if not isinstance(glob, str) or not glob:
            raise ValueError(f"{_shown(glob)} is not a glob")
        try:
            out.append((glob, _codes(codes)))
        except ValueError as exc:
            raise ValueError(f"{glob}: {exc}") from None
    return tuple(out)


def _raw_list(value: Any) -> list:
    if not isinstance(value, list):
        raise ValueError("expected a list of rule definitions")
    return value


KEYS: dict[str, Key] = {
    "select": Key("select", _codes),
    "ignore": Key("ignore", _codes),
    "extend-select": Key("extend_select", _codes),
    "per-file-ignores": Key("per_file_ignores", _per_file_ignores),
    "severity": Key("severity_overrides", _severity_map),
    "fail-on": Key("fail_on", _severity),
    "profile": Key("profile", _profile),
    "goal": Key("goal", _choice(GOALS)),
    "k8s-version": Key("k8s_version", parse_k8s_version),
    "schema": Key("schema", _bool),
    "shm-min": Key("shm_min", _bytes),
    "gpu-memory-utilization-max": Key("gpu_memory_utilization_max", _fraction),
    "engine-rss": Key("engine_rss", _bytes),
    "startup-budget": Key("startup_budget", _seconds),
    "cache-claim": Key("cache_claim", _string),
    "region": Key("region", _string),
    "insecure-registries": Key("insecure_registries", _strings),
    "disallow-suppressions": Key("disallow_suppressions", _bool),
    # webhook (issue 5), lock files (issue 6), custom rules (issue 9): kept in Settings.extra
    "mode": Key("mode", _choice(("enforce", "warn", "audit")), extra=True),
    "failure-mode": Key("failure_mode", _choice(("open", "closed")), extra=True),
    "update-policy": Key("update_policy", _choice(("new-only", "all")), extra=True),
    "exempt-namespaces": Key("exempt_namespaces", _strings, extra=True),
    "exempt-objects": Key("exempt_objects", _strings, extra=True),  # globs over Kind/namespace/name
    "webhook-unsafe-fixes": Key("webhook_unsafe_fixes", _bool, extra=True),
    "allow-annotation-suppressions": Key("allow_annotation_suppressions", _bool, extra=True),
    "max-request-bytes": Key("max_request_bytes", _positive_int, extra=True),
    "lock-file": Key("lock_file", _string, extra=True),
    "image-size-max": Key("image_size_max", _bytes, extra=True),  # CS211, with --online
    "rules": Key("custom_rules", _raw_list, extra=True),
}


def find_config(start: str) -> str | None:
    """The nearest `.cslint.yaml` or pyproject.toml with a `[tool.cslint]` table above `start`
    (a directory named `.cslint.yaml` is a ConfigError)."""
    directory = os.path.abspath(start)
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if _is_config_file(candidate):
                return candidate
        pyproject = os.path.join(directory, PYPROJECT)
        if os.path.isfile(pyproject) and _holds_our_table(pyproject):
            return pyproject
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _is_config_file(path: str) -> bool:
    """Whether a `.cslint.yaml` is there (one stat, as `isfile` took). A directory under that name
    is an error, not passed over: a configuration was meant here, and the parent's (or the
    defaults) would lint the tree with settings nobody chose for it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if stat.S_ISDIR(mode):
        raise _directory_error(path)
    return stat.S_ISREG(mode)


def _directory_error(path: str) -> ConfigError:
    return ConfigError(f"{path}: is a directory, not a configuration file")


_OUR_TABLE = re.compile(rb"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*cslint\b", re.M)


def _holds_our_table(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:
        return False
    # a run looks for its configuration twice (settings, then the lockfile beside it): the same
    # text is parsed once (~1 ms of TOML where a pyproject.toml merely names cslint)
    key = (path, raw)
    if key not in _HOLDS_TABLE:
        _HOLDS_TABLE.clear()
        _HOLDS_TABLE[key] = _table_in(path, raw)
    return _HOLDS_TABLE[key]


_HOLDS_TABLE: dict[tuple[str, bytes], bool] = {}


def _table_in(path: str, raw: bytes) -> bool:
    if b"cslint" not in raw:  # every spelling of the table names it; spares ~6 ms of tomllib import
        return False
    try:
        table = _tool_table(_toml(path, raw))
    except ConfigError:  # a broken pyproject.toml is not ours to report, unless it holds our table
        if _OUR_TABLE.search(raw):
            raise
        return False
    return isinstance(table, dict)


def _toml(path: str, raw: bytes) -> dict[str, Any]:
    import tomllib
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _tool_table(data: dict[str, Any]) -> Any:
    """`[tool.cslint]` of a pyproject.toml's data, as written (None when absent)."""
    tool = data.get("tool")
    return tool.get("cslint") if isinstance(tool, dict) else None


def read_config(path: str) -> dict[str, Any]:
    """The raw table of a configuration file; errors name the file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES >> 20} MiB, not a configuration")
    if os.path.basename(path) == PYPROJECT or path.endswith(".toml"):
        data = _toml(path, raw)
        table = _tool_table(data) if os.path.basename(path) == PYPROJECT else data
        return table if isinstance(table, dict) else {}
    from .documents import DocumentError, load_bounded  # the manifests' guards: no bombs, no duplicate keys
    try:
        data = load_bounded(raw.decode("utf-8")) if raw.strip() else {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: invalid YAML: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except DocumentError as exc:
        where = f"{path}:{exc.line + 1}:{exc.column + 1}" if exc.line or exc.column else path
        raise ConfigError(f"{where}: invalid YAML: {exc.message}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of configuration keys")
    return data


def _check_given(path: str) -> None:
    """A `--config` that is there and not a directory is read whatever its kind: `/dev/null` (a
    character device) is the usual "no configuration" and `--config <(…)` a pipe."""
    if os.path.isdir(path):
        raise _directory_error(path)
    if not os.path.exists(path):
        raise ConfigError(f"{path}: configuration file not found")


def settings_from(table: dict[str, Any], path: str,
                  base: Settings | None = None) -> tuple[Settings, dict[str, Any]]:
    """Validate a raw table into Settings; origins map each set field to `path`."""
    changes: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    origins: dict[str, Any] = {}
    for key, value in table.items():
        spec = KEYS.get(str(key).replace("_", "-"))
        if spec is None:
            import difflib
            close = difflib.get_close_matches(str(key), list(KEYS), n=1)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(KEYS))}"
            raise ConfigError(f"{path}: {key}: unknown key ({hint})")
        try:
            parsed = spec.parse(value)
        except ValueError as exc:
            raise ConfigError(f"{path}: {key}: {exc}") from None
        (extra if spec.extra else changes)[spec.field] = parsed
        origins[spec.field] = path
    if "per_file_ignores" in changes:
        root = config_directory(path)
        changes["per_file_ignores"] = tuple((anchor_glob(g, root), c) for g, c in changes["per_file_ignores"])
    if "custom_rules" in extra:
        extra["custom_rules_source"] = path
        from .custom_rules import parse_custom_rules  # validates now (exit 2) and registers the provider
        parse_custom_rules(extra["custom_rules"], path)
    settings = (base or Settings()).with_(**changes)
    if extra:
        settings = settings.with_(extra=tuple(settings.extra) + tuple(extra.items()))
    return settings, origins


def config_directory(path: str) -> str:
    """What a configuration's relative paths (globs, `lock-file`) are relative to: its directory,
    or the working directory for one that is no regular file — `--config /dev/null` stands for
    the defaults and `<(…)` lives in /dev/fd, neither in a directory of the project."""
    return os.path.dirname(os.path.abspath(path)) if os.path.isfile(path) else os.getcwd()


def anchor_glob(glob: str, root: str) -> str:
    """Globs with a slash are relative to the configuration's directory; bare names match anywhere."""
    negate = glob.startswith("!")
    body = glob[1:] if negate else glob
    if "/" in body and not os.path.isabs(body) and not body.startswith("**"):
        body = os.path.join(root, body)
    return ("!" if negate else "") + body


def load_settings(config_file: str | None = None, isolated: bool = False) -> tuple[Settings, dict[str, Any]]:
    """Settings from `config_file`, else from the nearest configuration; defaults when isolated."""
    origins: dict[str, Any] = {name: DEFAULT_ORIGIN for name in Settings.field_names()}
    if isolated and config_file:
        raise ConfigError("--config and --isolated contradict each other (--isolated ignores every configuration file)")
    if isolated:
        return Settings(), origins
    path = config_file or find_config(os.getcwd())
    if path is None:
        return Settings(), origins
    if config_file:
        _check_given(config_file)
    settings, found = settings_from(read_config(path), path)
    origins.update(found)
    return settings, origins
