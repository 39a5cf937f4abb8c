"""Admission decisions as pure functions: AdmissionReview dict in, AdmissionReview dict out."""
from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import jsonpatch
import pytest
import yaml

from cslint.model import Applicability, Severity
from cslint.settings import Settings
from cslint.webhook.admission import (DENY_LISTED, Admission, BadReview, parse_review, review_for)
from cslint.webhook.metrics import Metrics
from cslint.webhook.policy import WebhookPolicy
from corpus_paths import CORPUS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhook"


def load(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text())


def admission(**policy) -> Admission:
    return Admission(Settings(fail_on=Severity.ERROR), WebhookPolicy(**policy))


def patch_of(outcome) -> list[dict]:
    return json.loads(base64.b64decode(outcome.review["response"]["patch"]))


def owner(api_version: str, kind: str, name: str = "x", **fields) -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": f"{name}-uid", **fields}


def operator_pod() -> dict:
    """pod-operator.yaml owned by an operator the webhook does not review, so the Pod is checked."""
    pod = load("pod-operator.yaml")
    pod["metadata"]["ownerReferences"] = [owner("models.example.com/v1", "ModelServer", controller=True)]
    return pod


# -- envelope -------------------------------------------------------------------------------------
@pytest.mark.parametrize("body,words", [
    (b"{", "not valid JSON"),
    (b"\xff\xfe\x00", "not valid JSON"),
    (b"null", "JSON object"),
    (json.dumps({"apiVersion": "v1", "kind": "AdmissionReview", "request": {}}).encode(), "admission.k8s.io/v1"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}).encode(), "no request"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE"}}).encode(),
     "uid"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                 "request": {"uid": "u", "operation": "PATCH", "object": {}}}).encode(), "operation"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                 "request": {"uid": "u", "operation": "UPDATE", "object": "text"}}).encode(), "request.object"),
])
def test_bad_envelopes_are_refused_with_a_reason(body, words):
    with pytest.raises(BadReview, match=words):
        parse_review(body)


def test_delete_without_object_is_a_valid_review():
    review = review_for({}, operation="DELETE", object=None)
    assert parse_review(json.dumps(review).encode())["request"]["operation"] == "DELETE"


# -- validation -----------------------------------------------------------------------------------
def test_denial_lists_code_container_path_and_fix_title():
    out = admission().validate(review_for(load("deployment-fixable.yaml"), uid="abc"))
    resp = out.review["response"]
    assert (out.verdict, resp["uid"], resp["allowed"], resp["status"]["code"]) == ("denied", "abc", False, 403)
    line = next(x for x in resp["status"]["message"].splitlines() if x.startswith("- CS401"))
    assert "container vllm" in line and "/spec/template/spec/volumes/0/emptyDir" in line and "(fix: " in line
    assert resp["warnings"][0].startswith("CS402 container vllm:")  # below fail-on: a warning
    assert resp["auditAnnotations"] == {"findings": "CS401,CS402,CS403"}


def test_denial_message_and_warnings_stay_bounded():
    obj = load("deployment-fixable.yaml")
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "vllm/vllm-openai:" + "x" * 400
    obj["spec"]["template"]["spec"]["containers"] = [dict(container, name=f"c{i}") for i in range(40)]
    resp = admission().validate(review_for(obj)).review["response"]
    message = resp["status"]["message"]
    assert message.count("\n- CS") == DENY_LISTED and "more (run `cslint check`" in message
    assert len(message) < 4000
    assert all(len(w) <= 120 for w in resp["warnings"]) and sum(map(len, resp["warnings"])) < 4096


def test_warn_mode_never_denies_and_audit_mode_only_annotates():
    warn = admission(mode="warn").validate(review_for(operator_pod())).review["response"]
    assert warn["allowed"] is True and warn["warnings"][0].startswith("CS201")
    audit = admission(mode="audit").validate(review_for(operator_pod())).review["response"]
    assert audit == {"uid": "test-uid", "allowed": True, "auditAnnotations": {"findings": "CS201"}}


def test_fail_on_comes_from_settings():
    strict = Admission(Settings(fail_on=Severity.WARNING), WebhookPolicy())
    assert strict.validate(review_for(load("leaderworkerset-warn.yaml"))).verdict == "denied"
    assert admission().validate(review_for(load("leaderworkerset-warn.yaml"))).verdict == "warned"


@pytest.mark.parametrize("request_fields,verdict", [
    ({"operation": "DELETE", "object": None}, "skipped"),
    ({"operation": "CONNECT", "object": None}, "skipped"),
    ({"subResource": "status"}, "skipped"),
    ({"operation": "UPDATE"}, "skipped"),  # a Pod's spec is immutable: only CREATE is checked
    ({"namespace": "kube-system"}, "exempt"),
    ({"dryRun": True}, "denied"),  # answered like any request
])
def test_requests_that_pass_through(request_fields, verdict):
    out = admission().validate(review_for(operator_pod(), **request_fields))
    assert out.verdict == verdict
    if verdict != "denied":
        assert out.review["response"] == {"uid": "test-uid", "allowed": True}


def _child(kind: str, api_version: str, template_of: dict, owner_ref: dict) -> dict:
    """`kind` made by a controller from the pod template of `template_of`."""
    meta = {"name": "child", "namespace": "ml", "ownerReferences": [owner_ref]}
    if kind == "Pod":
        return {"apiVersion": api_version, "kind": kind, "metadata": meta,
                "spec": template_of["spec"]["template"]["spec"]}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": template_of["spec"]}


@pytest.mark.parametrize("kind,api_version,owner_ref,named", [
    ("Pod", "v1", owner("apps/v1", "ReplicaSet", "qwen-7d9f", controller=True), "ReplicaSet/qwen-7d9f"),
    ("Pod", "v1", owner("batch/v1", "Job", "nightly-290", controller=True), "Job/nightly-290"),
    ("Pod", "v1", owner("apps/v1", "StatefulSet", "lws-0", controller=True), "StatefulSet/lws-0"),
    ("Pod", "v1", owner("ray.io/v1", "RayCluster", "ray", controller=True), "RayCluster/ray"),
    ("ReplicaSet", "apps/v1", owner("apps/v1", "Deployment", "qwen", controller=True), "Deployment/qwen"),
    ("ReplicaSet", "apps/v1", owner("argoproj.io/v1alpha1", "Rollout", "qwen", controller=True), "Rollout/qwen"),
    ("Deployment", "apps/v1", owner("serving.kserve.io/v1beta1", "InferenceService", "qwen", controller=True),
     "InferenceService/qwen"),
    ("StatefulSet", "apps/v1", owner("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet", "lws", controller=True),
     "LeaderWorkerSet/lws"),
    # LeaderWorkerSet's worker StatefulSet is controlled by its group's leader Pod
    ("StatefulSet", "apps/v1", owner("v1", "Pod", "lws-0", controller=True), "Pod/lws-0"),
])
def test_controller_owned_objects_are_judged_at_their_owner(kind, api_version, owner_ref, named):
    child = _child(kind, api_version, load("deployment-fixable.yaml"), owner_ref)
    assert admission().validate(review_for(dict(child, metadata={"name": "bare"}))).verdict == "denied"  # control
    for decide in (admission().validate, admission().mutate, admission(mode="audit").validate):
        out = decide(review_for(child))
        assert out.verdict == "skipped" and out.findings == []
        assert out.review["response"] == {"uid": "test-uid", "allowed": True,
                                          "auditAnnotations": {"skipped": "controller-owned", "owner": named}}


def test_job_of_a_cronjob_is_judged_at_the_cronjob():
    template = load("deployment-fixable.yaml")["spec"]["template"]
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": template},
           "metadata": {"name": "nightly-290", "namespace": "ml",
                        "ownerReferences": [owner("batch/v1", "CronJob", "nightly", controller=True)]}}
    assert admission().validate(review_for(job)).verdict == "skipped"
    assert "patch" not in admission().mutate(review_for(job)).review["response"]
    del job["metadata"]["ownerReferences"]
    assert admission().validate(review_for(job)).verdict == "denied"  # the control: it has findings


@pytest.mark.parametrize("owner_ref", [
    owner("apps/v1", "ReplicaSet"),  # an owner, but not the controller
    owner("apps/v1", "ReplicaSet", controller=False),
    owner("apps/v1", "ReplicaSet", controller="true"),  # not a boolean
    owner("models.example.com/v1", "ModelServer", controller=True),  # a controller the webhook never reviews
    owner("serving.knative.dev/v1", "Revision", controller=True),  # neither
    owner("v1", "Deployment", controller=True),  # Deployment is not in the core group
])
def test_objects_without_a_reviewed_controller_are_checked(owner_ref):
    pod = load("pod-operator.yaml")
    pod["metadata"]["ownerReferences"] = [owner_ref]
    assert admission().validate(review_for(pod)).verdict == "denied"


def test_reviewed_owners_are_resources_the_manifests_register():
    """Only an owner the webhook reviews stands for its children: every kind trusted is registered."""
    from cslint.webhook.manifests import WORKLOAD_RESOURCES
    from cslint.webhook.owners import JUDGED_OWNERS
    registered = {(group, resource) for group, resources in WORKLOAD_RESOURCES for resource in resources}
    assert {(group, kind.lower() + "s") for group, kind in JUDGED_OWNERS} <= registered


def test_terminating_objects_are_not_blocked_and_exempt_object_globs_apply():
    obj = load("deployment-fixable.yaml")
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert admission().validate(review_for(obj, operation="UPDATE")).verdict == "skipped"
    plain = load("deployment-fixable.yaml")
    assert admission(exempt_objects=("Deployment/ml/q*",)).validate(review_for(plain)).verdict == "exempt"
    assert admission(exempt_objects=("StatefulSet/*/*",)).validate(review_for(plain)).verdict == "denied"


def test_annotation_suppressions_are_honoured_unless_disabled():
    obj = load("deployment-suppressed.yaml")
    assert admission().validate(review_for(obj)).verdict == "allowed"
    assert admission(annotation_suppressions=False).validate(review_for(obj)).verdict == "denied"
    strict = Admission(Settings(fail_on=Severity.ERROR, disallow_suppressions=True), WebhookPolicy())
    assert strict.validate(review_for(obj)).verdict == "denied"


@pytest.mark.parametrize("failure_mode,allowed,code", [("open", True, None), ("closed", False, 500)])
def test_internal_errors_follow_failure_mode_and_log_the_uid(monkeypatch, caplog, failure_mode, allowed, code):
    adm = admission(failure_mode=failure_mode)

    def boom(obj):
        raise RuntimeError("rule exploded")
    monkeypatch.setattr(adm.linter, "lint_object", boom)
    with caplog.at_level(logging.ERROR, logger="cslint.webhook"):
        for decide in (adm.validate, adm.mutate):
            out = decide(review_for(load("deployment-clean.yaml"), uid="uid-42"))
            assert out.verdict == "error" and out.review["response"]["allowed"] is allowed
            assert out.review["response"].get("status", {}).get("code") == code
    assert "uid=uid-42" in caplog.text and "rule exploded" in caplog.text


# -- mutation -------------------------------------------------------------------------------------
def test_mutation_is_the_rules_operations_and_converges():
    adm = admission()
    obj = load("deployment-fixable.yaml")
    out = adm.mutate(review_for(obj))
    assert out.verdict == "patched" and out.review["response"]["patchType"] == "JSONPatch"
    ops = patch_of(out)
    rule_ops = [op for f in out.findings for op in f.fix.operations]
    assert ops[:len(rule_ops)] == rule_ops  # no second fix implementation
    patched = jsonpatch.apply_patch(obj, ops)
    assert ops[-1] == {"op": "add", "path": "/metadata/annotations", "value": {"cslint.io/fixed": "CS401,CS402,CS403"}}
    assert not [f for f in adm.lint(patched) if f.fix and f.fix.applicability >= Applicability.SAFE]
    assert adm.mutate(review_for(patched)).review["response"] == {"uid": "test-uid", "allowed": True}
    assert obj == load("deployment-fixable.yaml"), "the request object must not be modified"


FLIP_FLOP = {"code": "X901", "name": "flip-flop", "scope": "pod", "select": "$.securityContext.runAsNonRoot",
             "require": {"equals": True}, "message": "runAsNonRoot is {value}",
             "fix": {"patch": [{"op": "add", "path": "", "value": False}], "safe": True}}  # never satisfies itself


@pytest.mark.parametrize("failure_mode,allowed,code", [("open", True, None), ("closed", False, 500)])
def test_fixes_that_never_converge_are_reported_in_one_line(caplog, failure_mode, allowed, code):
    import cslint.custom_rules  # noqa: F401  registers the provider
    settings = Settings(fail_on=Severity.ERROR, select=("X",),
                        extra=(("custom_rules", [FLIP_FLOP]), ("custom_rules_source", "test.yaml")))
    looping = Admission(settings, WebhookPolicy(failure_mode=failure_mode))
    limited = admission(failure_mode=failure_mode, unsafe_fixes=True, max_fix_passes=1)  # pull-policy needs 2
    pull_policy = yaml.safe_load((FIXTURES.parent / "CS202" / "pull-policy.yaml").read_text())
    with caplog.at_level(logging.ERROR, logger="cslint.webhook"):
        for adm, obj in ((looping, operator_pod()), (limited, pull_policy)):
            out = adm.mutate(review_for(obj, uid="uid-7"))
            assert out.verdict == "error" and out.review["response"]["allowed"] is allowed
            assert out.review["response"].get("status", {}).get("code") == code
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records] == [
        "FixesDidNotConverge: fixes did not converge: pass 2 brings back an earlier state (X901)",
        "FixesDidNotConverge: fixes did not converge after 1 passes (CS101, CS202, CS401, CS403)"]
    assert all(r.exc_info is None and "uid=uid-7" in r.getMessage() for r in caplog.records)


def test_fixes_chosen_together_make_a_shared_operation_once_and_keep_repeated_args():
    from cslint.fixer import plan_operations, select_fixes
    from cslint.model import Finding, Fix
    volume = {"op": "add", "path": "/spec/volumes", "value": [{"name": "dshm", "emptyDir": {"medium": "Memory"}}]}

    def finding(n: int, *ops: dict) -> Finding:
        return Finding("CS401", "shm", Severity.ERROR, "m", "f", 0, f"/spec/containers/{n}",
                       fix=Fix(Applicability.SAFE, ops, "t"))
    mounts = [finding(n, volume, {"op": "add", "path": f"/spec/containers/{n}/volumeMounts", "value": []})
              for n in range(3)]
    args = finding(5, *({"op": "add", "path": "/spec/containers/5/args/-", "value": v} for v in ("--a", "1", "--b", "1")))
    chosen = select_fixes(mounts + [args], Applicability.SAFE)[0]
    assert len(chosen) == 4  # one pass for every container
    ops = plan_operations(chosen)
    assert ops.count(volume) == 1 and [op["value"] for op in ops[-4:]] == ["--a", "1", "--b", "1"]
    other = finding(1, {"op": "add", "path": "/spec/volumes", "value": [{"name": "cache"}]})
    assert select_fixes(mounts + [other], Applicability.SAFE)[0] == mounts  # a different volume list waits


def test_fixed_annotation_key_is_escaped_and_merged_with_an_earlier_record():
    obj = load("leaderworkerset-warn.yaml")
    obj["metadata"]["annotations"] = {"cslint.io/fixed": "CS401"}
    ops = patch_of(admission().mutate(review_for(obj)))
    assert ops[-1] == {"op": "add", "path": "/metadata/annotations/cslint.io~1fixed", "value": "CS401,CS402"}
    assert jsonpatch.apply_patch(obj, ops)["metadata"]["annotations"] == {"cslint.io/fixed": "CS401,CS402"}


def test_unsafe_fixes_only_when_opted_in():
    obj = load("inferenceservice.yaml")
    safe = {op["path"] for op in patch_of(admission().mutate(review_for(obj)))}
    unsafe = {op["path"] for op in patch_of(admission(unsafe_fixes=True).mutate(review_for(obj)))}
    assert safe < unsafe


def test_audit_mode_mutates_nothing_and_clean_objects_get_no_patch():
    out = admission(mode="audit").mutate(review_for(load("deployment-fixable.yaml")))
    assert out.review["response"] == {"uid": "test-uid", "allowed": True,
                                      "auditAnnotations": {"would-fix": "CS401,CS402,CS403"}}
    assert admission().mutate(review_for(load("deployment-clean.yaml"))).review["response"] == \
        {"uid": "test-uid", "allowed": True}


def _corpus_objects():
    if not CORPUS.is_dir():
        return []
    objs = []
    for path in sorted(CORPUS.rglob("*.yaml"))[:150]:
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        objs += [(f"{path.name}#{i}", d) for i, d in enumerate(docs)
                 if isinstance(d, dict) and isinstance(d.get("kind"), str) and isinstance(d.get("spec"), dict)]
    return objs


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_mutation_is_idempotent_on_real_manifests():
    adm, patched_count = admission(unsafe_fixes=True), 0
    for label, obj in _corpus_objects():
        out = adm.mutate(review_for(obj))
        if out.verdict != "patched":
            continue
        patched_count += 1
        fixed = jsonpatch.apply_patch(obj, patch_of(out))
        again = adm.mutate(review_for(fixed)).review["response"]
        assert "patch" not in again, label
    assert patched_count >= 10


# -- policy and metrics ---------------------------------------------------------------------------
def test_policy_reads_the_shared_configuration_keys():
    settings = Settings(extra=(("mode", "warn"), ("failure_mode", "closed"), ("exempt_namespaces", ["a", "b"]),
                               ("allow_annotation_suppressions", False), ("max_request_bytes", 1024),
                               ("webhook_unsafe_fixes", True), ("exempt_objects", ["Pod/*/*"])))
    policy = WebhookPolicy.from_settings(settings)
    assert (policy.mode, policy.failure_mode, policy.exempt_namespaces, policy.annotation_suppressions,
            policy.max_body_bytes, policy.unsafe_fixes, policy.exempt_objects) == \
        ("warn", "closed", ("a", "b"), False, 1024, True, ("Pod/*/*",))
    assert policy.with_(mode=None, failure_mode="open").mode == "warn"
    with pytest.raises(ValueError, match="mode"):
        WebhookPolicy(mode="block")


def test_metrics_exposition_counts_and_cumulative_buckets():
    m = Metrics()
    m.observe("validate", "denied", 0.003, ["CS201", "CS401"])
    m.observe("validate", "allowed", 0.2)
    text = m.render()
    assert 'cslint_webhook_requests_total{endpoint="validate",verdict="denied"} 1' in text
    assert 'cslint_webhook_findings_total{code="CS401"} 1' in text
    assert 'cslint_webhook_request_duration_seconds_bucket{endpoint="validate",le="0.005"} 1' in text
    assert 'cslint_webhook_request_duration_seconds_bucket{endpoint="validate",le="0.25"} 2' in text
    assert 'cslint_webhook_request_duration_seconds_count{endpoint="validate"} 2' in text
    assert text.endswith("\n")
