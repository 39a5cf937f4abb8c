"""A synthetic GitOps repository of N manifests, mixed as real ones are.

Mostly Services, ConfigMaps and plain Deployments (generated, with realistic fields), plus about
one engine workload in ten copied from `fixtures/` and, when present, the shared corpus of real
LLM-serving manifests. Documents are grouped a few per file, files a few per app directory, so the
benchmark exercises file discovery and reading as a real tree does.
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Iterator

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
DOCS_PER_FILE = (1, 6)
FILES_PER_DIR = 20
# share of each generated kind; the rest are engine workloads from real manifests
MIX = (("Service", 0.35), ("ConfigMap", 0.25), ("Deployment", 0.30))


def engine_documents() -> list[str]:
    """Document texts of real engine workloads (anything with a pod template running vllm/sglang/tgi)."""
    found: list[str] = []
    for base in (ROOT / "fixtures", SHARED_CORPUS):
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.y*ml")):
            try:
                text = path.read_text(encoding="utf-8")
                docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            for doc in docs:
                if isinstance(doc, dict) and _is_engine(doc) and _containers_are_mappings(doc):
                    found.append(yaml.safe_dump(doc, sort_keys=False))
    return found


def _is_engine(doc: dict) -> bool:
    text = repr(doc).lower()
    return any(w in text for w in ("vllm", "sglang", "text-generation-inference")) and "containers" in text


def _containers_are_mappings(doc: dict) -> bool:
    """False for a document built to be hostile (a container that is a number or null): the
    hardening tests own those. A timed tree holds what a repository holds, and Checkov's
    kubernetes framework dies on such a container (AttributeError in CKV_K8S_141) without a report,
    which would leave its column empty."""
    stack: list = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("containers", "initContainers") and isinstance(value, list):
                    if not all(isinstance(c, dict) for c in value):
                        return False
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return True


def service(rng: random.Random, name: str, ns: str) -> str:
    port = rng.choice([80, 8080, 8000, 9090, 443])
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
spec:
  type: {rng.choice(["ClusterIP", "ClusterIP", "NodePort"])}
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: {port}
      targetPort: {port}
      protocol: TCP
"""


def configmap(rng: random.Random, name: str, ns: str) -> str:
    lines = "\n".join(f"  {k}_{i}: \"{rng.randint(0, 10**6)}\"" for i, k in
                      enumerate(rng.sample(["LOG_LEVEL", "TIMEOUT", "RETRIES", "POOL", "REGION", "MODE"], 4)))
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {ns}
data:
{lines}
  app.properties: |
    server.port=8080
    feature.flag={rng.choice(["true", "false"])}
    # a comment inside a block scalar
"""


def deployment(rng: random.Random, name: str, ns: str) -> str:
    tag = f"1.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
spec:
  replicas: {rng.randint(1, 5)}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      serviceAccountName: {name}
      containers:
        - name: app
          image: registry.example.com/shop/{name}:{tag}
          imagePullPolicy: IfNotPresent
          args: ["--port=8080", "--log-format=json"]
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {{name: {name}-db, key: password}}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{memory: 256Mi}}
          readinessProbe:
            httpGet: {{path: /healthz, port: 8080}}
          volumeMounts:
            - name: config
              mountPath: /etc/app
      volumes:
        - name: config
          configMap:
            name: {name}-config
"""


GENERATORS = {"Service": service, "ConfigMap": configmap, "Deployment": deployment}


def documents(n: int, seed: int = 0) -> Iterator[str]:
    rng = random.Random(seed)
    engines = engine_documents()
    for i in range(n):
        roll, acc, kind = rng.random(), 0.0, None
        for k, share in MIX:
            acc += share
            if roll < acc:
                kind = k
                break
        if kind is None and engines:
            yield rng.choice(engines)
            continue
        kind = kind or "Deployment"
        yield GENERATORS[kind](rng, f"svc-{i}", f"team-{i % 17}")


def write_corpus(directory: str | os.PathLike, n: int, seed: int = 0) -> list[str]:
    """Write n documents as files under `directory`; return the file paths in order."""
    rng = random.Random(seed + 1)
    out: list[str] = []
    pending: list[str] = []
    want = rng.randint(*DOCS_PER_FILE)
    for doc in documents(n, seed):
        pending.append(doc)
        if len(pending) >= want:
            out.append(_write(directory, len(out), pending))
            pending, want = [], rng.randint(*DOCS_PER_FILE)
    if pending:
        out.append(_write(directory, len(out), pending))
    return out


def _write(directory: str | os.PathLike, index: int, docs: list[str]) -> str:
    sub = Path(directory) / f"app-{index // FILES_PER_DIR:04d}"
    sub.mkdir(parents=True, exist_ok=True)
    path = sub / f"manifest-{index:05d}.yaml"
    path.write_text("---\n".join(docs), encoding="utf-8")
    return str(path)
