"""The YAML that runs the webhook in a cluster, following the admission best practices.

Two replicas spread across nodes with a PDB, `failurePolicy` Ignore by default (a webhook outage
must not stop the cluster), its own namespace and kube-system excluded (no self-deadlock),
`sideEffects: None` so dry-run requests reach it, and a serving certificate from cert-manager
(re-read on rotation by the server) or from a CA bundle the operator provides.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from .. import __version__

DEFAULT_IMAGE = f"ghcr.io/cslint/cslint:{__version__}"
NAME = "cslint-webhook"
PORT = 8443
TLS_DIR = "/etc/cslint/tls"
CONFIG_DIR = "/etc/cslint/config"

# (apiGroup, [resources]) that hold pod templates the workload model understands, plus Pods
WORKLOAD_RESOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("pods", "podtemplates", "replicationcontrollers")),
    ("apps", ("deployments", "statefulsets", "daemonsets", "replicasets")),
    ("batch", ("jobs", "cronjobs")),
    ("leaderworkerset.x-k8s.io", ("leaderworkersets",)),
    ("serving.kserve.io", ("inferenceservices", "servingruntimes", "clusterservingruntimes",
                           "llminferenceservices", "llminferenceserviceconfigs")),
    ("ray.io", ("rayclusters", "rayservices", "rayjobs")),
    ("serving.knative.dev", ("services",)),
    ("argoproj.io", ("rollouts",)),
)


class ManifestError(ValueError):
    """Options that cannot produce a working deployment (exit code 2)."""


@dataclass(frozen=True)
class ManifestOptions:
    namespace: str = "cslint"
    image: str = DEFAULT_IMAGE
    cert_manager: bool = True
    ca_bundle: bytes | None = None  # PEM of the CA that signed the serving certificate
    failure_policy: str = "Ignore"
    timeout_seconds: int = 5
    mode: str = "enforce"
    update_policy: str = "new-only"
    replicas: int = 2


def check_image(ref: str) -> None:
    """A webhook image must be immutable enough to roll back: no `:latest`, no implicit tag."""
    last = ref.rsplit("/", 1)[-1]
    if "@" in ref:
        return
    if ":" not in last:
        raise ManifestError(f"image {ref!r} has no tag (Kubernetes would pull :latest); give a version or a digest")
    if last.endswith(":latest"):
        raise ManifestError(f"image {ref!r} uses :latest; give a version or a digest")


def render(opts: ManifestOptions) -> str:
    import re

    import yaml

    check_image(opts.image)
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", opts.namespace):
        raise ManifestError(f"namespace {opts.namespace!r} is not a DNS-1123 label")
    if opts.update_policy not in ("new-only", "all"):
        raise ManifestError("update policy must be new-only or all")
    if opts.failure_policy not in ("Ignore", "Fail"):
        raise ManifestError("failure policy must be Ignore or Fail")
    if not 1 <= opts.timeout_seconds <= 5:
        raise ManifestError("timeoutSeconds must be between 1 and 5 (admission latency is on every apply)")
    docs = [namespace(opts), service_account(opts), config_map(opts), deployment(opts),
            disruption_budget(opts), service(opts)]
    if opts.cert_manager:
        docs += cert_manager_objects(opts)
    docs += [webhook_configuration(opts, mutating=False), webhook_configuration(opts, mutating=True)]
    header = (f"# cslint admission webhook {__version__}: `kubectl apply -f` this file.\n"
              + ("# Needs cert-manager for the serving certificate.\n" if opts.cert_manager else
                 f"# Create the serving certificate first (SAN {NAME}.{opts.namespace}.svc):\n"
                 f"#   kubectl -n {opts.namespace} create secret tls {NAME}-tls --cert=tls.crt --key=tls.key\n"))
    return header + yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)


def _meta(opts: ManifestOptions, name: str = NAME, namespaced: bool = True, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespaced:
        meta["namespace"] = opts.namespace
    meta["labels"] = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "cslint"}
    meta.update(extra)
    return meta


def namespace(opts: ManifestOptions) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(opts, opts.namespace, namespaced=False)}


def service_account(opts: ManifestOptions) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(opts),
            "automountServiceAccountToken": False}


def config_map(opts: ManifestOptions) -> dict[str, Any]:
    import yaml
    config = {"mode": opts.mode, "failure-mode": "open" if opts.failure_policy == "Ignore" else "closed",
              "update-policy": opts.update_policy,
              "exempt-namespaces": ["kube-system", opts.namespace]}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(opts, f"{NAME}-config"),
            "data": {".cslint.yaml": yaml.safe_dump(config, sort_keys=False)}}


def _probe(path: str, period: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "https", "scheme": "HTTPS"}, "periodSeconds": period,
            "timeoutSeconds": 2, "failureThreshold": 3}


def deployment(opts: ManifestOptions) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": NAME}
    container = {
        "name": "webhook",
        "image": opts.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["serve", "--tls-cert", f"{TLS_DIR}/tls.crt", "--tls-key", f"{TLS_DIR}/tls.key",
                 "--port", str(PORT), "--config", f"{CONFIG_DIR}/.cslint.yaml"],
        "ports": [{"name": "https", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": _probe("/readyz", 5),
        "livenessProbe": _probe("/healthz", 10),
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "tls", "mountPath": TLS_DIR, "readOnly": True},
                         {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    anti_affinity = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 100,
        "podAffinityTerm": {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"},
    }]}}
    pod_spec = {
        "serviceAccountName": NAME,
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "affinity": anti_affinity,
        "containers": [container],
        "volumes": [{"name": "tls", "secret": {"secretName": f"{NAME}-tls"}},
                    {"name": "config", "configMap": {"name": f"{NAME}-config"}}],
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(opts),
            "spec": {"replicas": opts.replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec}}}


def disruption_budget(opts: ManifestOptions) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(opts),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}}}}


def service(opts: ManifestOptions) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(opts),
            "spec": {"selector": {"app.kubernetes.io/name": NAME},
                     "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}}


def cert_manager_objects(opts: ManifestOptions) -> list[dict[str, Any]]:
    host = f"{NAME}.{opts.namespace}.svc"
    issuer = {"apiVersion": "cert-manager.io/v1", "kind": "Issuer", "metadata": _meta(opts, f"{NAME}-selfsigned"),
              "spec": {"selfSigned": {}}}
    cert = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": _meta(opts, f"{NAME}-tls"),
            "spec": {"secretName": f"{NAME}-tls", "dnsNames": [host, f"{host}.cluster.local"],
                     "issuerRef": {"name": f"{NAME}-selfsigned", "kind": "Issuer"},
                     "privateKey": {"rotationPolicy": "Always"}}}
    return [issuer, cert]


def _rules() -> list[dict[str, Any]]:
    return [{"apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
             "resources": list(resources), "scope": "*"} for group, resources in WORKLOAD_RESOURCES]


def webhook_configuration(opts: ManifestOptions, mutating: bool) -> dict[str, Any]:
    path = "/mutate" if mutating else "/validate"
    client: dict[str, Any] = {"service": {"name": NAME, "namespace": opts.namespace, "path": path, "port": 443}}
    if opts.ca_bundle is not None:
        client["caBundle"] = base64.b64encode(opts.ca_bundle).decode()
    hook: dict[str, Any] = {
        "name": f"{'mutate' if mutating else 'validate'}.cslint.io",
        "admissionReviewVersions": ["v1"],
        "sideEffects": "None",
        "timeoutSeconds": opts.timeout_seconds,
        "failurePolicy": opts.failure_policy,
        "matchPolicy": "Equivalent",
        "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                    "values": ["kube-system", opts.namespace]}]},
        "clientConfig": client,
        "rules": _rules(),
    }
    if mutating:
        hook["reinvocationPolicy"] = "IfNeeded"  # safe: the patch is idempotent
    annotations = {"cert-manager.io/inject-ca-from": f"{opts.namespace}/{NAME}-tls"} if opts.cert_manager else {}
    meta = _meta(opts, NAME, namespaced=False, **({"annotations": annotations} if annotations else {}))
    kind = "MutatingWebhookConfiguration" if mutating else "ValidatingWebhookConfiguration"
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": meta, "webhooks": [hook]}
