"""Runtime facts of a container that several rules and the cold-start report share."""
from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple

from .quantity import parse_quantity
from .workloads import Container, as_dict

if TYPE_CHECKING:  # KServe runtimes: imported by runs that hold an InferenceService only
    from .servingruntimes import RuntimeShm

RUNAI_DEFAULT_BUFFER = 40 * 10**9  # the streamer's default CPU buffer (40 GB, non-distributed)
RUNAI_FORMATS = ("runai_streamer", "runai_streamer_sharded")


class Shm(NamedTuple):
    """A container's /dev/shm: its mount, its volume and the volume's medium."""
    mount_index: int | None
    volume_index: int | None
    volume: dict | None
    medium: str | None
    size_limit: Fraction | None
    size_text: str | None
    origin: str | None = None  # where it comes from when not from the container's own mount

    @property
    def memory_backed(self) -> bool:
        return self.medium == "Memory"


def shm_of(c: Container) -> Shm | None:
    """The volume the container itself mounts at /dev/shm, if any."""
    for i, m in c.mounts:
        if m["mountPath"].rstrip("/") == "/dev/shm":
            entry = c.template.volumes.get(m.get("name"))
            if entry is None:
                return Shm(i, None, None, None, None, None)
            return _shm(i, entry[0], entry[1])
    return None


def pod_shm(c: Container) -> Shm | None:
    """The /dev/shm the container runs with: its own mount, else, for a KServe predictor's `model`
    that mounts none, its runtime's (KServe merges the runtime's serving container into `model`,
    so the runtime's mount and volume reach the pod). None when neither mounts one, or when the
    runtime is not in the run."""
    own = shm_of(c)
    if own is not None or c.pointer != c.template.at("model"):
        return own
    source = c.template.model_runtime
    runtime = source.runtime if source is not None else None
    if runtime is None or runtime.shm is None:
        return None
    shm = _shm(None, None, merged_runtime_volume(runtime.shm, c))
    return shm._replace(origin=f"{'the ' if source.auto_selected else ''}{source.label}'s volume "
                               f"{runtime.shm.volume_name!r}")


def _shm(mount_index: int | None, volume_index: int | None, vol: dict | None) -> Shm:
    empty = vol.get("emptyDir") if vol is not None else None
    if not isinstance(empty, dict):
        return Shm(mount_index, volume_index, vol, None, None, None)
    size = empty.get("sizeLimit")
    return Shm(mount_index, volume_index, vol, empty.get("medium") if isinstance(empty.get("medium"), str) else None,
               parse_quantity(size), str(size) if size is not None else None)


def merged_runtime_volume(shm: "RuntimeShm", c: Container) -> dict | None:
    """The runtime's /dev/shm volume as the pod gets it: KServe strategic-merges the runtime's pod
    spec with the predictor's (`MergePodSpec`), volumes keyed by name, the predictor's fields winning."""
    entry = c.template.volumes.get(shm.volume_name)
    if entry is None:
        return shm.volume
    return _merge(shm.volume or {}, entry[1])


def _merge(base: dict, patch: dict) -> dict:
    merged = dict(base)
    for key, value in patch.items():
        merged[key] = _merge(base[key], value) if isinstance(base.get(key), dict) and isinstance(value, dict) else value
    return merged


def memory_limit(c: Container) -> tuple[Fraction | None, object]:
    raw = as_dict(as_dict(c.data.get("resources")).get("limits")).get("memory")
    return parse_quantity(raw), raw


def streamer_buffer(c: Container) -> int:
    """Bytes of CPU buffer the Run:ai streamer may take, 0 when the streamer is not used."""
    args = c.engine_args
    fmt = args.get("load-format") if args else None
    if not fmt or (fmt.value_text or "").lower() not in RUNAI_FORMATS:
        return 0
    env = c.env_value("RUNAI_STREAMER_MEMORY_LIMIT")
    extra = args.get("model-loader-extra-config")
    if extra and extra.value_text:
        try:
            cfg = json.loads(extra.value_text)
            if isinstance(cfg, dict) and isinstance(cfg.get("memory_limit"), int):
                env = str(cfg["memory_limit"])
        except ValueError:
            pass
    if env is not None:
        try:
            value = int(env)
        except ValueError:
            return RUNAI_DEFAULT_BUFFER
        return 0 if value < 0 else value  # -1 unlimited: no bound we can add
    return RUNAI_DEFAULT_BUFFER


PROBE_DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "failureThreshold": 3}


def probe_budget(probe: dict) -> int:
    def num(key: str) -> int:
        v = probe.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) else PROBE_DEFAULTS[key]
    return num("initialDelaySeconds") + num("failureThreshold") * num("periodSeconds")
