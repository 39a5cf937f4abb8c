"""UPDATE requests are judged on what the update brings (update-policy new-only, the default)."""
from __future__ import annotations

import base64
import copy
import json
import logging
from pathlib import Path

import jsonpatch
import pytest
import yaml

from cslint.model import Severity
from cslint.settings import Settings
from cslint.webhook.admission import Admission, review_for
from cslint.webhook.policy import WebhookPolicy
from cslint.webhook.ratchet import Baseline, identity, old_object, stable_path, templates_change
from corpus_paths import CORPUS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhook"
POD = ("spec", "template", "spec")


def load(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text())


def admission(**policy) -> Admission:
    return Admission(Settings(fail_on=Severity.ERROR), WebhookPolicy(**policy))


def pod(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def labelled(obj: dict, **labels: str) -> dict:
    new = copy.deepcopy(obj)
    new["metadata"].setdefault("labels", {}).update(labels)
    return new


def update(old: dict, new: dict, **request) -> dict:
    return review_for(new, operation="UPDATE", oldObject=copy.deepcopy(old), **request)


# -- validate ---------------------------------------------------------------------------------------
def test_preexisting_violation_and_an_unrelated_change_is_allowed_with_a_warning():
    old = load("deployment-tag-pinned.yaml")
    out = admission().validate(update(old, labelled(old, team="search")))
    resp = out.review["response"]
    assert (out.verdict, resp["allowed"]) == ("warned", True)
    assert resp["warnings"][0].startswith("CS201 container vllm (pre-existing): image 'vllm/vllm-openai:v0.11.0'")
    assert resp["auditAnnotations"] == {"preexisting": "CS201"}
    assert admission().validate(review_for(labelled(old, team="search"))).verdict == "denied"  # CREATE: whole


def test_new_violation_brought_by_the_update_is_denied_and_the_old_one_stays_a_warning():
    old = load("deployment-tag-pinned.yaml")
    new = copy.deepcopy(old)
    del pod(new)["volumes"][0]["emptyDir"]["sizeLimit"]
    resp = admission().validate(update(old, new)).review["response"]
    assert resp["allowed"] is False
    message = resp["status"]["message"]
    assert "1 finding(s)" in message and "- CS401 container vllm at /spec/template/spec/volumes/0/emptyDir" in message
    assert "CS201" not in message
    assert resp["warnings"][0].startswith("CS201 container vllm (pre-existing)")
    assert resp["auditAnnotations"] == {"findings": "CS201,CS401", "preexisting": "CS201"}


@pytest.mark.parametrize("old", [None, "text", [1, 2], {"kind": "StatefulSet", "metadata": {"name": "qwen"}}],
                         ids=["missing", "string", "list", "another kind"])
def test_missing_or_invalid_old_object_is_judged_as_a_create(old):
    new = labelled(load("deployment-tag-pinned.yaml"), team="search")
    review = review_for(new, operation="UPDATE", oldObject=old)
    out = admission().validate(review)
    assert out.verdict == "denied" and "CS201" in out.review["response"]["status"]["message"]
    assert "preexisting" not in out.review["response"]["auditAnnotations"]


def test_old_object_the_rules_cannot_lint_is_judged_as_a_create(monkeypatch, caplog):
    adm, old = admission(), load("deployment-tag-pinned.yaml")
    real = adm.linter.lint_object

    def fails_on_old(obj):
        if obj.data is not None and obj.data.get("metadata", {}).get("labels") is None:
            raise RuntimeError("rule exploded on the old object")
        return real(obj)
    monkeypatch.setattr(adm.linter, "lint_object", fails_on_old)
    with caplog.at_level(logging.WARNING, logger="cslint.webhook"):
        out = adm.validate(update(old, labelled(old, team="search"), uid="uid-7"))
    assert out.verdict == "denied"
    assert "uid-7" in caplog.text and "judged as a CREATE" in caplog.text


def test_update_policy_all_judges_the_whole_object():
    old = load("deployment-tag-pinned.yaml")
    out = admission(update_policy="all").validate(update(old, labelled(old, team="search")))
    assert out.verdict == "denied" and "CS201" in out.review["response"]["status"]["message"]


def test_no_op_update_of_a_denied_object_is_allowed_and_warn_and_audit_modes_are_unchanged():
    old = load("deployment-fixable.yaml")
    resp = admission().validate(update(old, old)).review["response"]
    assert resp["allowed"] is True and {w.split()[0] for w in resp["warnings"]} == {"CS401", "CS402", "CS403"}
    assert sum("(pre-existing)" in w for w in resp["warnings"]) == 2  # the two that would deny: CS401, CS403
    warn = admission(mode="warn").validate(update(old, old)).review["response"]
    assert warn["allowed"] is True and not any("(pre-existing)" in w for w in warn["warnings"])
    audit = admission(mode="audit").validate(update(old, old)).review["response"]
    assert audit == {"uid": "test-uid", "allowed": True, "auditAnnotations": {"findings": "CS401,CS402,CS403"}}


def test_old_object_is_linted_only_when_something_would_deny(monkeypatch):
    adm, calls = admission(), []
    real = adm.lint
    monkeypatch.setattr(adm, "lint", lambda data: calls.append(data) or real(data))
    clean = load("deployment-clean.yaml")
    adm.validate(update(clean, labelled(clean, team="a")))
    assert len(calls) == 1
    pinned = load("deployment-tag-pinned.yaml")
    adm.validate(update(pinned, labelled(pinned, team="a")))
    assert len(calls) == 3


# -- what "the same finding" is ------------------------------------------------------------------------
def test_a_sidecar_or_env_var_inserted_in_front_keeps_the_finding_the_same():
    old = load("deployment-tag-pinned.yaml")
    new = copy.deepcopy(old)
    pod(new)["containers"].insert(0, {"name": "proxy", "image": "envoyproxy/envoy:v1.31.0@sha256:" + "a" * 64})
    pod(new)["containers"][1]["env"].insert(0, {"name": "LOG_LEVEL", "value": "debug"})
    pod(new)["volumes"].insert(0, {"name": "scratch", "emptyDir": {}})
    assert admission().validate(update(old, new)).verdict == "warned"


def test_an_argument_moved_inside_args_keeps_the_finding_the_same():
    old = load("deployment-clean.yaml")
    args = pod(old)["containers"][0]["args"]
    args[args.index("0.8")] = "0.97"  # CS403: too much VRAM, an error
    assert admission().validate(review_for(old)).verdict == "denied"
    new = copy.deepcopy(old)
    pod(new)["containers"][0]["args"][1:1] = ["--max-model-len", "8192"]
    assert admission().validate(update(old, new)).verdict == "warned"


def test_a_second_copy_of_a_violation_is_new_and_a_renamed_container_is_new():
    old = load("deployment-tag-pinned.yaml")
    two = copy.deepcopy(old)
    pod(two)["containers"].append(dict(pod(two)["containers"][0], name="vllm-b"))
    resp = admission().validate(update(old, two)).review["response"]
    assert resp["allowed"] is False and "container vllm-b" in resp["status"]["message"]
    assert "container vllm " not in resp["status"]["message"]
    renamed = copy.deepcopy(old)
    pod(renamed)["containers"][0]["name"] = "engine"
    assert admission().validate(update(old, renamed)).verdict == "denied"


def test_removing_a_suppression_makes_the_finding_new():
    old = load("deployment-suppressed.yaml")
    new = copy.deepcopy(old)
    del new["metadata"]["annotations"]["cslint.io/ignore"]
    assert admission().validate(update(old, new)).verdict == "denied"


def test_stable_path_names_list_items_by_their_merge_key():
    obj = {"spec": {"containers": [{"name": "a", "args": ["--x", "1"], "volumeMounts": [{"mountPath": "/dev/shm"}],
                                    "ports": [{"containerPort": 8000}], "env": [{"value": "no key"}]}],
                    "annotations": {"cslint.io/x": "1"}}}
    assert stable_path(obj, "/spec/containers/0/args/1") == ("spec", "containers", ("name", "a"), "args")
    assert stable_path(obj, "/spec/containers/0/volumeMounts/0/sizeLimit") == \
        ("spec", "containers", ("name", "a"), "volumeMounts", ("mountPath", "/dev/shm"), "sizeLimit")
    assert stable_path(obj, "/spec/containers/0/ports/0")[-1] == ("containerPort", 8000)
    assert stable_path(obj, "/spec/containers/0/env/0")[-1] == ("#", 0)
    assert stable_path(obj, "/spec/annotations/cslint.io~1x") == ("spec", "annotations", "cslint.io/x")
    assert stable_path(obj, "/spec/volumes/3/emptyDir") == ("spec", "volumes", "3", "emptyDir")  # not there
    assert stable_path(obj, "") == ()


def test_baseline_split_counts_identities():
    adm, old = admission(), load("deployment-fixable.yaml")
    findings = adm.lint(old)
    base = Baseline.of(findings, old)
    assert base.split(findings, old) == ([], findings)
    assert base.split(findings + findings[:1], old) == (findings[:1], findings)
    assert identity(findings[0], old)[:2] == ("CS401", "vllm")


def test_old_object_and_template_change_helpers():
    obj = load("deployment-clean.yaml")
    assert old_object(update(obj, obj)["request"]) == obj
    assert old_object(review_for(obj)["request"]) is None
    assert not templates_change(obj, labelled(obj, team="a"))
    changed = copy.deepcopy(obj)
    changed["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "now"}
    assert templates_change(obj, changed)


# -- mutate ------------------------------------------------------------------------------------------
def patch_of(outcome) -> list[dict]:
    return json.loads(base64.b64decode(outcome.review["response"]["patch"]))


def test_mutate_leaves_preexisting_fixes_alone_when_the_update_does_not_touch_the_pod_template():
    old = load("deployment-fixable.yaml")
    out = admission().mutate(update(old, labelled(old, team="search")))
    assert out.review["response"] == {"uid": "test-uid", "allowed": True,
                                      "auditAnnotations": {"preexisting-not-fixed": "CS401,CS402,CS403"}}


def test_mutate_fixes_preexisting_findings_when_the_update_rolls_the_pods_anyway():
    old = load("deployment-fixable.yaml")
    new = copy.deepcopy(old)
    pod(new)["containers"][0]["image"] = "vllm/vllm-openai:v0.11.1@sha256:" + "b" * 64
    out = admission().mutate(update(old, new))
    assert out.verdict == "patched"
    fixed = jsonpatch.apply_patch(new, patch_of(out))
    assert fixed["metadata"]["annotations"]["cslint.io/fixed"] == "CS401,CS402,CS403"
    assert admission().validate(update(old, fixed)).review["response"] == {"uid": "test-uid", "allowed": True}


def test_mutate_with_update_policy_all_patches_a_label_change_as_before():
    old = load("deployment-fixable.yaml")
    out = admission(update_policy="all").mutate(update(old, labelled(old, team="search")))
    assert out.verdict == "patched" and "preexisting-not-fixed" not in out.review["response"]["auditAnnotations"]


def test_mutate_on_update_still_fixes_what_the_update_brings():
    old = load("deployment-clean.yaml")
    new = copy.deepcopy(old)
    pod(new)["containers"][0]["env"] = [e for e in pod(new)["containers"][0]["env"] if e["name"] != "NCCL_CUMEM_ENABLE"]
    out = admission().mutate(update(old, new))
    assert out.verdict == "patched" and out.review["response"]["auditAnnotations"] == {"fixed": "CS402"}


# -- policy plumbing -----------------------------------------------------------------------------------
def test_update_policy_comes_from_the_configuration_and_is_checked():
    assert WebhookPolicy().update_policy == "new-only"
    policy = WebhookPolicy.from_settings(Settings(extra=(("update_policy", "all"),)))
    assert policy.update_policy == "all"
    with pytest.raises(ValueError, match="update-policy"):
        WebhookPolicy(update_policy="sometimes")


# -- real manifests --------------------------------------------------------------------------------------
def _corpus_objects(limit: int = 150):
    objs = []
    for path in sorted(CORPUS.rglob("*.yaml"))[:limit]:
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        objs += [(f"{path.name}#{i}", d) for i, d in enumerate(docs)
                 if isinstance(d, dict) and isinstance(d.get("kind"), str) and isinstance(d.get("spec"), dict)
                 and isinstance(d.get("metadata", {}), dict) and d.get("kind") != "Pod"]
    return objs


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_unrelated_updates_of_real_manifests_are_never_denied_and_never_patched():
    adm = Admission(Settings(fail_on=Severity.WARNING), WebhookPolicy(unsafe_fixes=True))
    denied_as_create = 0
    for label, obj in _corpus_objects():
        new = copy.deepcopy(obj)
        new.setdefault("metadata", {}).setdefault("labels", {})["cslint.io/test"] = "x"
        denied_as_create += adm.validate(review_for(new)).verdict == "denied"
        assert adm.validate(update(obj, new)).review["response"]["allowed"] is True, label
        assert "patch" not in adm.mutate(update(obj, new)).review["response"], label
    assert denied_as_create >= 10
