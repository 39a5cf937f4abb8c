"""`cslint webhook manifests`: deployable YAML that passes cslint's own schema check."""
from __future__ import annotations

import base64

import pytest
import yaml
from click.testing import CliRunner

from cslint.cli import main
from cslint.engine import Linter
from cslint.settings import Settings
from cslint.sources import SourceText
from cslint.webhook.manifests import ManifestError, ManifestOptions, check_image, render


def schema_findings(text: str) -> list:
    linter = Linter(Settings(select=("CS001",)))
    return [f for r in linter.lint_sources([SourceText("webhook.yaml", text)]) for f in r.findings]


def run(*args: str):
    return CliRunner().invoke(main, ["webhook", "manifests", *args])


def by_kind(text: str) -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all(text)}


def test_default_output_passes_the_schema_check_and_has_every_piece():
    result = run("--namespace", "policy")
    assert result.exit_code == 0, result.output
    assert schema_findings(result.output) == []
    assert ":latest" not in result.output
    kinds = by_kind(result.output)
    assert set(kinds) == {"Namespace", "ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service",
                          "Issuer", "Certificate", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert kinds["Deployment"]["spec"]["replicas"] == 2 and "podAntiAffinity" in pod["affinity"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["limits"]["memory"]
    for kind, path in (("ValidatingWebhookConfiguration", "/validate"), ("MutatingWebhookConfiguration", "/mutate")):
        hook = kinds[kind]["webhooks"][0]
        assert hook["sideEffects"] == "None" and hook["admissionReviewVersions"] == ["v1"]
        assert hook["timeoutSeconds"] <= 5 and hook["failurePolicy"] == "Ignore"
        assert hook["clientConfig"]["service"] == {"name": "cslint-webhook", "namespace": "policy", "path": path,
                                                   "port": 443}
        excluded = hook["namespaceSelector"]["matchExpressions"][0]
        assert excluded["operator"] == "NotIn" and set(excluded["values"]) == {"kube-system", "policy"}
        resources = {r for rule in hook["rules"] for r in rule["resources"]}
        assert {"pods", "deployments", "leaderworkersets", "inferenceservices", "rayservices"} <= resources
        assert kinds[kind]["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == "policy/cslint-webhook-tls"
    assert kinds["MutatingWebhookConfiguration"]["webhooks"][0]["reinvocationPolicy"] == "IfNeeded"
    config = yaml.safe_load(kinds["ConfigMap"]["data"][".cslint.yaml"])
    assert config["exempt-namespaces"] == ["kube-system", "policy"]
    assert config["update-policy"] == "new-only"


def test_schema_check_does_look_at_these_kinds():
    """A negative control: the check above would catch a broken webhook configuration."""
    broken = run().output.replace("timeoutSeconds: 5", "timeoutSeconds: five")
    assert {f.code for f in schema_findings(broken)} == {"CS001"}


def test_ca_bundle_is_embedded_and_cert_manager_left_out(tmp_path):
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    (tmp_path / "ca.pem").write_bytes(pem)
    result = run("--ca-bundle", str(tmp_path / "ca.pem"), "--failure-policy", "Fail",
                 "--image", "registry.example/cslint@sha256:" + "a" * 64)
    assert result.exit_code == 0, result.output
    kinds = by_kind(result.output)
    assert "Certificate" not in kinds and schema_findings(result.output) == []
    hook = kinds["ValidatingWebhookConfiguration"]["webhooks"][0]
    assert base64.b64decode(hook["clientConfig"]["caBundle"]) == pem and hook["failurePolicy"] == "Fail"
    assert "kubectl -n cslint create secret tls" in result.output


@pytest.mark.parametrize("args,words", [
    (("--image", "ghcr.io/cslint/cslint:latest"), ":latest"),
    (("--image", "ghcr.io/cslint/cslint"), "no tag"),
    (("--cert-manager", "--ca-bundle", "x.pem"), "exclude"),
    (("--ca-bundle", "/nonexistent/ca.pem"), "cannot read"),
    (("--timeout", "10"), "10"),
    (("--update-policy", "sometimes"), "sometimes"),
])
def test_bad_options_exit_2_with_one_line(args, words):
    result = run(*args)
    assert result.exit_code == 2 and words in result.output
    assert "Traceback" not in result.output


def test_image_rules():
    check_image("localhost:5000/cslint:1.0")  # a registry port is not a tag
    with pytest.raises(ManifestError):
        check_image("localhost:5000/cslint")
    with pytest.raises(ManifestError):
        render(ManifestOptions(failure_policy="Sometimes"))


def test_dockerfile_is_slim_digest_pinned_and_non_root():
    from pathlib import Path
    text = (Path(__file__).resolve().parent.parent / "Dockerfile").read_text()
    bases = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ARG PYTHON_IMAGE=")]
    assert bases and "-slim" in bases[0] and "@sha256:" in bases[0] and len(bases[0].split("@sha256:")[1]) == 64
    assert all(line.split()[1].startswith("${PYTHON_IMAGE}") for line in text.splitlines() if line.startswith("FROM "))
    user = [line for line in text.splitlines() if line.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in ("0", "root")
    assert ":latest" not in text and '".[serve]"' in text


def test_bad_namespace_is_refused():
    result = run("--namespace", "Not_A_Label")
    assert result.exit_code == 2 and "DNS-1123" in result.output


def test_generated_configuration_is_what_serve_reads(tmp_path):
    from cslint.config import load_settings
    from cslint.webhook.policy import WebhookPolicy
    text = by_kind(run("--namespace", "policy", "--mode", "warn", "--failure-policy", "Fail",
                       "--update-policy", "all").output)["ConfigMap"]
    (tmp_path / ".cslint.yaml").write_text(text["data"][".cslint.yaml"])
    settings, _ = load_settings(str(tmp_path / ".cslint.yaml"))
    policy = WebhookPolicy.from_settings(settings)
    assert (policy.mode, policy.failure_mode, policy.exempt_namespaces, policy.update_policy) == \
        ("warn", "closed", ("kube-system", "policy"), "all")
