"""Where an engine's weights and caches come from, as far as the manifest shows.

`model_source` answers "does every cold start download the weights?" without guessing: when
the model comes from somewhere the arguments don't show, it says `unknown` and rules stay silent.
"""
from __future__ import annotations

import posixpath
import re
from typing import Any, Iterator, NamedTuple

from .workloads import Container, K8sObject, as_dict, as_list

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
TRUE_VALUES = ("1", "on", "yes", "true")
PERSISTENT_SOURCES = ("persistentVolumeClaim", "image", "csi", "nfs", "hostPath", "ephemeral",
                      "gcePersistentDisk", "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "rbd", "iscsi",
                      "fc", "cinder", "portworxVolume", "glusterfs")


class ModelSource(NamedTuple):
    """Where an engine's model weights come from."""
    kind: str  # "hub", "local", "oci", "object-store", "unknown"
    ref: str | None
    path: str | None = None  # JSON pointer of where the model is named
    span: tuple[int, int] | None = None
    # named by a storage URI of the owner (KServe): its storage initializer, not the engine,
    # fetches the weights into the pod, so the engine's own offline mode does not stop it
    fetched_for_engine: bool = False


def classify_model(ref: str) -> str:
    if ref.startswith("hf://"):
        return "hub"
    if ref.startswith("oci://"):
        return "oci"
    if ref.startswith(("s3://", "gs://", "az://", "gcs://")):
        return "object-store"
    if ref.startswith(("pvc://",)):
        return "local"
    if ref.startswith(("/", "./", "../", "~")):
        return "local"
    if "${" in ref or "$(" in ref or "{{" in ref:
        return "unknown"
    return "hub" if _HUB_ID.match(ref) else "unknown"


def model_source(c: Container) -> ModelSource:
    """The model the engine serves: storage URIs of the owning object first, then the arguments."""
    owner = c.template.owner
    storage = _storage_uri(owner.data)
    if storage is not None:
        uri, path = storage
        kind = classify_model(uri)
        if kind == "hub" and not uri.startswith("hf://"):
            kind = "unknown"
        if kind != "hub" and uri.startswith(("pvc://",)):
            kind = "local"
        return ModelSource(kind, uri, owner.at(*path), fetched_for_engine=True)
    args = c.engine_args
    if args is None:
        return ModelSource("unknown", None)
    token = args.model_token
    model = args.model
    if not model or token is None:
        return ModelSource("unknown", None)
    return ModelSource(classify_model(model), model, token.path, token.span)


def _storage_uri(data: dict) -> tuple[str, tuple[str, ...]] | None:
    spec = as_dict(data.get("spec"))
    kind = data.get("kind")
    if kind in ("LLMInferenceService", "LLMInferenceServiceConfig"):
        uri = as_dict(spec.get("model")).get("uri")
        return (uri, ("spec", "model", "uri")) if isinstance(uri, str) else None
    if kind == "InferenceService":
        predictor = as_dict(spec.get("predictor"))
        uri = as_dict(predictor.get("model")).get("storageUri")
        if isinstance(uri, str):
            return uri, ("spec", "predictor", "model", "storageUri")
        uri = predictor.get("storageUri")
        if isinstance(uri, str):
            return uri, ("spec", "predictor", "storageUri")
    return None


def env_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in TRUE_VALUES


def hub_offline_setting(c: Container) -> tuple[str, str | None] | None:
    """(name, literal value or None for a valueFrom) of the variable huggingface_hub decides
    offline mode by: `HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE` (an unset or empty HF_HUB_OFFLINE
    defers to its alias, any other value wins: "0" keeps the Hub online). None when neither is set."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        entry = c.env.get(name)
        if entry is not None and entry[1] != "":
            return name, entry[1]
    return None


def hub_offline(c: Container) -> bool | None:
    """Whether huggingface_hub runs offline; None when a `valueFrom` decides, or `envFrom` may."""
    setting = hub_offline_setting(c)
    if setting is None:
        return None if c.has_env_from else False
    return None if setting[1] is None else env_true(setting[1])


def home_dir(c: Container) -> str:
    return c.env_value("HOME") or "/root"


def hf_cache_dirs(c: Container) -> list[str]:
    """Directories the engine reads Hub weights from: --download-dir and the HF hub cache."""
    dirs = []
    args = c.engine_args
    flag = args.get("download-dir") if args else None
    if flag and flag.value_text:
        dirs.append(flag.value_text)
    hub = c.env_value("HF_HUB_CACHE") or c.env_value("HUGGINGFACE_HUB_CACHE") or c.env_value("TRANSFORMERS_CACHE")
    if hub:
        dirs.append(hub)
    else:
        hf_home = c.env_value("HF_HOME") or posixpath.join(
            c.env_value("XDG_CACHE_HOME") or posixpath.join(home_dir(c), ".cache"), "huggingface")
        dirs.append(posixpath.join(hf_home, "hub"))
    return dirs


def vllm_cache_root(c: Container) -> str:
    root = c.env_value("VLLM_CACHE_ROOT")
    if root:
        return root
    xdg = c.env_value("XDG_CACHE_HOME")
    return posixpath.join(xdg, "vllm") if xdg else posixpath.join(home_dir(c), ".cache", "vllm")


def compile_cache(c: Container) -> tuple[str, str]:
    """(directory, what it holds) of the compiled artifacts a wake can reuse. On TPU it is XLA's
    persistent cache, `VLLM_XLA_CACHE_PATH`, which vLLM defaults under the XDG cache root, not
    under `VLLM_CACHE_ROOT` (envs.py: get_default_cache_root()/vllm/xla_cache); elsewhere the
    cache root holding torch.compile's artifacts."""
    if c.device == "tpu":
        path = c.env_value("VLLM_XLA_CACHE_PATH")
        if not path:
            xdg = c.env_value("XDG_CACHE_HOME") or posixpath.join(home_dir(c), ".cache")
            path = posixpath.join(xdg, "vllm", "xla_cache")
        return path, "XLA compile cache"
    return vllm_cache_root(c), "compile cache"


def is_persistent(volume: dict | None) -> bool:
    if not isinstance(volume, dict):
        return False
    return any(key in volume for key in PERSISTENT_SOURCES)


def has_persistent_mount(c: Container, path: str) -> bool:
    found = c.mount_covering(path)
    return found is not None and is_persistent(found[2])


def weights_are_local(c: Container) -> bool:
    src = model_source(c)
    if src.kind in ("local", "oci"):
        return True
    if src.kind == "hub":
        return hf_cache_kept(c)
    return False


def hf_cache_kept(c: Container) -> bool:
    """Whether one of the container's Hugging Face cache directories is on a persistent volume."""
    return any(has_persistent_mount(c, d) for d in hf_cache_dirs(c))


def volume_source_type(volume: dict | None) -> str | None:
    if not isinstance(volume, dict):
        return None
    for key in volume:
        if key != "name":
            return key
    return None


def quantity_text(value: Any) -> str:
    return str(value) if value is not None else ""


def model_references(obj: K8sObject) -> Iterator[tuple[str, str, str]]:
    """(reference without scheme, as written, JSON pointer) of every OCI model artifact: KServe
    modelcars (`storageUri`/`storageUris` `oci://`), an LLMInferenceService's `oci://` model URI and
    image volumes (`volumes[].image.reference`). CS104 pins them, `cslint pin` locks them and
    `--online` inspects them (CS212)."""
    spec = obj.spec
    candidates = []
    if obj.kind == "InferenceService":
        pred = as_dict(spec.get("predictor"))
        candidates.append((as_dict(pred.get("model")).get("storageUri"), ("spec", "predictor", "model", "storageUri")))
        candidates.append((pred.get("storageUri"), ("spec", "predictor", "storageUri")))
        for i, s in enumerate(as_list(pred.get("storageUris"))):
            candidates.append((as_dict(s).get("uri"), ("spec", "predictor", "storageUris", i, "uri")))
    if obj.kind in ("LLMInferenceService", "LLMInferenceServiceConfig"):
        candidates.append((as_dict(spec.get("model")).get("uri"), ("spec", "model", "uri")))
    for value, path in candidates:
        if isinstance(value, str) and value.startswith("oci://"):
            yield value[len("oci://"):], value, obj.at(*path)
    for tpl in obj.templates:
        for i, vol in enumerate(as_list(tpl.spec.get("volumes"))):
            ref = as_dict(as_dict(vol).get("image")).get("reference")
            if isinstance(ref, str):
                yield ref, ref, tpl.at("volumes", i, "image", "reference")
