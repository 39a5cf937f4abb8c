"""Generated manifests: every workload kind, random containers, args, env and volumes, wrong
types in random places, and random mutations of the real corpus. The linter must never raise,
every finding must point inside its file, and --fix must keep its invariants."""
from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings as hsettings, strategies as st
from fuzzing import examples

from cslint.documents import parse_documents
from cslint.engine import Linter
from cslint.fixer import fix_text
from cslint.model import Applicability
from cslint.settings import Settings
from cslint.sources import SourceText

from corpus_paths import CORPUS
WORKLOADS = {  # kind → (apiVersion, where the pod template sits)
    "Pod": ("v1", ()),
    "Deployment": ("apps/v1", ("spec", "template")),
    "StatefulSet": ("apps/v1", ("spec", "template")),
    "DaemonSet": ("apps/v1", ("spec", "template")),
    "ReplicaSet": ("apps/v1", ("spec", "template")),
    "Job": ("batch/v1", ("spec", "template")),
    "CronJob": ("batch/v1", ("spec", "jobTemplate", "spec", "template")),
    "LeaderWorkerSet": ("leaderworkerset.x-k8s.io/v1", ("spec", "leaderWorkerTemplate", "workerTemplate")),
    "RayService": ("ray.io/v1", ("spec", "rayClusterConfig", "headGroupSpec", "template")),
    "InferenceService": ("serving.kserve.io/v1beta1", ("spec", "predictor")),
}
WRONG = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=5),
                  st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
NAMES = st.sampled_from(["vllm", "app", "sidecar", "main", "worker"])
IMAGES = st.sampled_from(["vllm/vllm-openai:v0.14.0", "vllm/vllm-openai:latest", "nginx", "busybox:1.36",
                          "lmsysorg/sglang:latest", "ghcr.io/x/y@sha256:" + "a" * 64, ""])
ARGS = st.lists(st.sampled_from(["--model", "meta-llama/Llama-3.1-8B", "--gpu-memory-utilization", "0.95",
                                 "--enforce-eager", "--tensor-parallel-size=2", "--load-format", "runai_streamer",
                                 "--port", "8000", "serve", "$(MODEL)", "--max-model-len", "x"]), max_size=8)
ENV = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["HF_TOKEN", "HF_HUB_OFFLINE", "MODEL", "NCCL_CUMEM_ENABLE",
                                                               "VLLM_USE_V1", "HF_HOME"]),
                                      "value": st.sampled_from(["1", "0", "hf_secret", "/cache", ""])}), max_size=4)
CONTAINER = st.fixed_dictionaries({"name": NAMES, "image": IMAGES}, optional={
    "command": st.sampled_from([["vllm", "serve"], ["python3", "-m", "vllm.entrypoints.openai.api_server"],
                                ["sh", "-c", "vllm serve m --port 8000"], []]),
    "args": ARGS, "env": ENV,
    "resources": st.fixed_dictionaries({}, optional={"limits": st.fixed_dictionaries(
        {}, optional={"nvidia.com/gpu": st.integers(0, 8), "memory": st.sampled_from(["16Gi", "1", "x"])})}),
    "volumeMounts": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["shm", "cache"]),
                                                    "mountPath": st.sampled_from(["/dev/shm", "/root/.cache"])}), max_size=2),
    "imagePullPolicy": st.sampled_from(["Always", "IfNotPresent", "Sometimes"]),
})
VOLUMES = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["shm", "cache"])}, optional={
    "emptyDir": st.fixed_dictionaries({}, optional={"medium": st.just("Memory"), "sizeLimit": st.sampled_from(["1Gi", "32Gi"])}),
    "persistentVolumeClaim": st.fixed_dictionaries({"claimName": st.just("vllm-cache")})}), max_size=2)


@st.composite
def manifests(draw) -> dict:
    kind = draw(st.sampled_from(sorted(WORKLOADS)))
    api, where = WORKLOADS[kind]
    pod_spec = {"containers": draw(st.lists(CONTAINER, min_size=1, max_size=3)), "volumes": draw(VOLUMES)}
    template = pod_spec if kind == "InferenceService" else {"metadata": {"labels": {"app": "x"}}, "spec": pod_spec}
    doc: dict = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "ns"}}
    if kind == "Pod":
        doc["spec"] = pod_spec
    else:
        node = doc
        for key in where[:-1]:
            node = node.setdefault(key, {})
        node[where[-1]] = template
    doc = copy.deepcopy(doc)  # corrupted in place: `sampled_from`/`just` hand out the same dicts each time
    for _ in range(draw(st.integers(0, 3))):  # wrong types in random places
        _corrupt(doc, draw)
    return doc


def _corrupt(doc: dict, draw) -> None:
    node, path = doc, []
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        path.append((node, key))
        node = node[key]
    if path:
        parent, key = path[-1]
        parent[key] = draw(WRONG)


def lint(text: str):
    return Linter(Settings()).lint_sources([SourceText("gen.yaml", text)])[0]


def assert_positions_inside(text: str, result) -> None:
    lines = text.split("\n")
    for f in result.findings:
        p = f.position
        assert p is not None, f
        assert 1 <= p.line <= p.end_line <= len(lines), (f, len(lines))
        assert 1 <= p.column <= len(lines[p.line - 1]) + 1, f


@hsettings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(manifests(), min_size=1, max_size=3))
def test_generated_workloads_lint_without_raising(docs):
    text = "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)
    assert_positions_inside(text, lint(text))


@hsettings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests())
def test_fix_keeps_its_invariants_on_generated_workloads(doc):
    text = "# keep-me-top\n" + yaml.safe_dump(doc, sort_keys=False).replace("\nspec:", "\n# keep-me-spec\nspec:", 1)
    linter = Linter(Settings())
    first = fix_text("gen.yaml", text, linter, Applicability.UNSAFE)
    fixed = first.text
    docs = list(parse_documents("gen.yaml", fixed))
    assert all(d.error is None for d in docs), fixed  # equivalence is checked per pass by the fixer
    for comment in ("# keep-me-top", "# keep-me-spec"):
        assert text.count(comment) <= fixed.count(comment)
    if first.error is None:
        second = fix_text("gen.yaml", fixed, Linter(Settings()), Applicability.UNSAFE)
        assert second.text == fixed  # idempotent
    assert_positions_inside(fixed, lint(fixed))


CORPUS_FILES = sorted(CORPUS.rglob("*.yaml")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus not present")
@hsettings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_corpus_files_lint_without_raising(data):
    path = data.draw(st.sampled_from(CORPUS_FILES))
    lines = path.read_text(encoding="utf-8").split("\n")
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, max(len(lines) - 1, 0)))
        op = data.draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "insert", "truncate"]))
        if op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "indent" and lines:
            lines[i] = "  " + lines[i]
        elif op == "dedent" and lines:
            lines[i] = lines[i][2:]
        elif op == "insert":
            lines.insert(i, data.draw(st.sampled_from(["- x", "a: [", "&x", "*x", "? k", ": v", "\t", "<<: 1", "!!set"])))
        elif op == "truncate" and lines:
            lines[i] = lines[i][: len(lines[i]) // 2]
    text = "\n".join(lines)
    assume(text.strip())
    assert_positions_inside(text, lint(text))
