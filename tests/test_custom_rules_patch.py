"""A custom rule's declared JSON Patch under a missing parent: the parents are created (as the
built-in rules create them), so `cslint --fix` applies it and the webhook's patch is valid; a
parent that would have to be a list, or an op that does not apply, is refused with the reason."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonpatch
import jsonpointer
import pytest
import yaml
from hypothesis import given, settings as hsettings, strategies as st
from fuzzing import examples

import cslint.custom_rules  # noqa: F401  registers the provider
from cslint.config import ConfigError
from cslint.custom_rules import parse_custom_rules
from cslint.declarative_patch import PatchRefused, complete_patch
from cslint.engine import Linter
from cslint.settings import Settings
from cslint.sources import SourceText

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: chat  # the chat tier
spec:
  template:
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          args: ["--port", "8000"]
"""

NON_ROOT = {"code": "X201", "name": "run-as-non-root", "scope": "pod", "select": "$.securityContext.runAsNonRoot",
            "require": {"equals": True}, "message": "runAsNonRoot is {value}",
            "fix": {"patch": [{"op": "add", "path": "", "value": True}], "safe": True}}
GPU_LIMITS = {"code": "X202", "name": "gpu-limits", "scope": "container", "select": "$.resources",
              "require": "exists", "message": "no resources",
              "fix": {"patch": [{"op": "add", "path": "/limits/nvidia.com~1gpu", "value": 1},
                                {"op": "add", "path": "/limits/memory", "value": "64Gi"}], "safe": True}}

FIXED = DEPLOYMENT + """\
          resources:
            limits:
              nvidia.com/gpu: 1
              memory: 64Gi
      securityContext:
        runAsNonRoot: true
"""


def settings_for(rules: list) -> Settings:
    return Settings(select=("X",), extra=(("custom_rules", rules), ("custom_rules_source", "test.yaml")))


def findings(text: str, rules: list):
    return Linter(settings_for(rules)).lint_sources([SourceText("m.yaml", text)])[0].findings


def rule(patch: list, **changes) -> dict:
    return {**NON_ROOT, "fix": {"patch": patch, "safe": True}, **changes}


# -- the operations ---------------------------------------------------------------------------
def test_add_under_a_missing_mapping_creates_it_first() -> None:
    [f] = findings(DEPLOYMENT, [NON_ROOT])
    assert f.path == "/spec/template/spec/securityContext/runAsNonRoot"
    assert list(f.fix.operations) == [
        {"op": "add", "path": "/spec/template/spec/securityContext", "value": {"runAsNonRoot": True}}]
    patched = jsonpatch.apply_patch(yaml.safe_load(DEPLOYMENT), list(f.fix.operations))
    assert patched["spec"]["template"]["spec"]["securityContext"] == {"runAsNonRoot": True}


def test_ops_into_a_mapping_the_same_fix_creates_are_folded_into_one_add() -> None:
    [f] = findings(DEPLOYMENT, [GPU_LIMITS])
    assert list(f.fix.operations) == [{"op": "add", "path": "/spec/template/spec/containers/0/resources",
                                       "value": {"limits": {"nvidia.com/gpu": 1, "memory": "64Gi"}}}]
    with_requests = DEPLOYMENT + "          resources: {requests: {cpu: 4}}\n"
    [f] = findings(with_requests, [dict(GPU_LIMITS, require={"equals": {}})])  # fires: resources is not {}
    assert list(f.fix.operations) == [{"op": "add", "path": "/spec/template/spec/containers/0/resources/limits",
                                       "value": {"nvidia.com/gpu": 1, "memory": "64Gi"}}]


def test_an_existing_parent_keeps_the_declared_operation() -> None:
    text = DEPLOYMENT.replace("    spec:\n      containers", "    spec:\n      securityContext: {fsGroup: 1}\n"
                                                            "      containers")
    [f] = findings(text, [NON_ROOT])
    assert list(f.fix.operations) == [
        {"op": "add", "path": "/spec/template/spec/securityContext/runAsNonRoot", "value": True}]


# -- end to end: --fix and the webhook ------------------------------------------------------------
def test_cslint_fix_applies_it_and_the_result_is_clean(tmp_path: Path) -> None:
    (tmp_path / ".cslint.yaml").write_text(yaml.safe_dump({"select": ["X"], "rules": [NON_ROOT, GPU_LIMITS]}))
    (tmp_path / "m.yaml").write_text(DEPLOYMENT)
    run = subprocess.run([sys.executable, "-m", "cslint", "--fix", "m.yaml"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "m.yaml").read_text() == FIXED
    assert findings(FIXED, [NON_ROOT, GPU_LIMITS]) == []


def test_the_webhook_patch_applies_and_reaches_a_fixed_point() -> None:
    pytest.importorskip("starlette")
    from cslint.webhook.admission import Admission, review_for
    from cslint.webhook.policy import WebhookPolicy
    admission = Admission(settings_for([NON_ROOT, GPU_LIMITS]), WebhookPolicy(annotate_fixes=False))
    obj = yaml.safe_load(DEPLOYMENT)
    out = admission.mutate(review_for(obj))
    assert out.verdict == "patched" and {f.code for f in out.findings} == {"X201", "X202"}
    patched = jsonpatch.apply_patch(obj, admission.plan_patch(obj)[0])
    assert patched == yaml.safe_load(FIXED)
    assert admission.plan_patch(patched) == ([], [])


# -- refusals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("patch, words", [
    ([{"op": "add", "path": "/-", "value": {"key": "gpu"}}],
     "add /spec/template/spec/securityContext/runAsNonRoot/-: /spec/template/spec/securityContext is missing, "
     "and `-` would need a list there"),
    ([{"op": "add", "path": "/0/name", "value": "x"}],
     "/spec/template/spec/securityContext is missing, and `0` would need a list there"),
    ([{"op": "replace", "path": "", "value": True}], "`replace /spec/template/spec/securityContext/runAsNonRoot`"
                                                     " does not apply here"),
    ([{"op": "test", "path": "", "value": False}], "`test /spec/template/spec/securityContext/runAsNonRoot` does "
                                                   "not apply here"),
], ids=["dash", "index", "replace-missing", "test"])
def test_a_patch_that_cannot_apply_is_refused_with_the_reason(patch: list, words: str) -> None:
    [f] = findings(DEPLOYMENT, [rule(patch)])
    assert f.fix is None
    assert f.message.startswith("runAsNonRoot is <missing> (declared fix not applied: ")
    assert words in f.message


def test_dash_in_the_middle_of_a_path_is_a_configuration_error() -> None:
    for op in ({"op": "add", "path": "/-/name", "value": 1}, {"op": "remove", "path": "/-"},
               {"op": "copy", "from": "/-", "path": "/x"}):
        with pytest.raises(ConfigError, match=r"rules\[0\] \(code X201\): fix\.patch\[0\]\.(path|from): `-`"):
            parse_custom_rules([rule([op])], "c.yaml")
    parse_custom_rules([rule([{"op": "add", "path": "/tolerations/-", "value": 1}])], "c.yaml")  # valid


# -- the property: whatever is offered applies, and puts the value where the rule said ----------------
_keys = st.sampled_from(["a", "b", "c/d", "0", "-"])
_tree = st.recursive(st.integers(0, 3) | st.just([1]),
                     lambda inner: st.dictionaries(_keys, inner, max_size=3), max_leaves=8)


@hsettings(max_examples=examples(300), deadline=None)
@given(st.dictionaries(_keys, _tree, max_size=3), st.lists(st.lists(_keys, min_size=1, max_size=4), max_size=3))
def test_offered_operations_always_apply(data: dict, paths: list) -> None:
    ops = [{"op": "add", "path": "/node" + "".join("/" + p.replace("/", "~1") for p in parts), "value": i}
           for i, parts in enumerate(paths)]
    try:
        got = complete_patch(ops, data, "/node")
    except PatchRefused:
        return
    after = jsonpatch.apply_patch({"node": data}, got)
    for i, op in enumerate(ops):
        overwritten = any(op["path"] == o["path"] or op["path"].startswith(o["path"] + "/") for o in ops[i + 1:])
        if not overwritten:  # a later add of the same place or an ancestor replaces this value
            target = op["path"]
            parent = jsonpointer.resolve_pointer(after, target.rsplit("/", 1)[0])
            if target.endswith("/-") and isinstance(parent, list):  # on a mapping `-` is a key
                assert parent[-1] == i
            else:
                assert jsonpointer.resolve_pointer(after, target) == i
