"""An InferenceService's transformer and explainer are pod templates too, and every component's
pods carry the InferenceService's own annotations under the component's — one model that
`cslint check` (the pre-commit hooks' entry), `--fix` and the admission webhook all read.

KServe v0.20.0 facts encoded (linter/podtemplates.py cites the sources): each component is an
inline PodSpec with its own `minReplicas`; the predictor's `model` and the explainer's `art` are
inline containers run as `kserve-container`; components/{predictor,transformer,explainer}.go
merge `utils.Union(filtered isvc annotations, filtered component annotations)`, so the
component wins; ServiceAnnotationDisallowedList drops `autoscaling.knative.dev/min-scale` and
`max-scale` from both, and SetAutoScalingAnnotations writes min-scale from `minReplicas` (1 when
unset) — a hand-written min-scale is never honoured (domain.md §2.2).
"""
from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import jsonpatch
import pytest
import yaml
from click.testing import CliRunner

from cslint.cli import main
from cslint.engine import Linter
from cslint.model import Severity
from cslint.scaling import scale_to_zero_reason
from cslint.settings import Settings
from cslint.sources import read_source
from cslint.webhook.admission import Admission, review_for
from cslint.webhook.policy import WebhookPolicy
from cslint.webhook.ratchet import templates_change
from cslint.workloads import K8sObject

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kserve"
TRANSFORMER = FIXTURES / "transformer.yaml"
MIN_SCALE = "autoscaling.knative.dev/min-scale"
AUTOSCALER = "serving.kserve.io/autoscalerClass"
MODE = "serving.kserve.io/deploymentMode"
DEADLINE = "serving.knative.dev/progress-deadline"
DIGEST = "@sha256:" + "2" * 64


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def isvc(annotations: dict | None = None, **components: dict) -> K8sObject:
    data = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "m", "annotations": annotations or {}}, "spec": components}
    return K8sObject(data, "")


def transformer(**extra) -> dict:
    return {"containers": [{"name": "kserve-container", "image": "kserve/image-transformer:v1" + DIGEST}], **extra}


PREDICTOR = {"model": {"modelFormat": {"name": "huggingface"}, "args": ["--model_id=Qwen/Qwen3-8B"]}}


# -- components as pod templates ------------------------------------------------------------------
def test_transformer_and_explainer_are_templates_with_their_own_pointers():
    first, second = (K8sObject(d, "") for d in docs(TRANSFORMER))
    assert [(t.role, t.spec_pointer) for t in first.templates] == [
        ("predictor", "/spec/predictor"), ("transformer", "/spec/transformer")]
    assert [(c.name, c.pointer) for c in first.templates[1].containers] == [
        ("kserve-container", "/spec/transformer/containers/0"), ("sidecar", "/spec/transformer/containers/1")]
    explainer = second.templates[1]
    assert (explainer.role, [(c.name, c.pointer) for c in explainer.containers]) == (
        "explainer", [("kserve-container", "/spec/explainer/art")])


def test_transformer_is_not_the_engine_and_gets_no_predictor_hint():
    tpl = isvc(predictor=PREDICTOR, transformer=transformer()).templates[1]
    assert tpl.engine_hint is None and not tpl.containers[0].is_engine


def test_components_without_containers_make_no_template():
    obj = isvc(predictor=PREDICTOR, transformer={"minReplicas": 0}, explainer={"containers": "nope"})
    assert [t.role for t in obj.templates] == ["predictor"]


def test_transformer_findings_are_positioned_on_the_transformer_lines():
    result = Linter(Settings(select=("CS201", "CS202"))).lint_sources([read_source(str(TRANSFORMER))])[0]
    got = sorted((f.document, f.path, f.code, f.line, f.container) for f in result.findings)
    assert got == [
        (0, "/spec/transformer/containers/0/image", "CS201", 17, "kserve-container"),
        (0, "/spec/transformer/containers/0/image", "CS202", 17, "kserve-container"),
        (0, "/spec/transformer/containers/1/imagePullPolicy", "CS202", 21, "sidecar"),
        (1, "/spec/explainer/art/image", "CS201", 35, "kserve-container"),
        (1, "/spec/explainer/art/image", "CS202", 35, "kserve-container"),
    ]


def test_cli_fix_writes_the_transformer_container(tmp_path):
    """`cslint check --fix` is the cslint-fix pre-commit hook's entry."""
    target = tmp_path / "isvc.yaml"
    target.write_text(TRANSFORMER.read_text())
    result = CliRunner().invoke(main, ["check", "--isolated", "--select", "CS202", "--fix", str(target)])
    assert result.exit_code == 1, result.output  # the unsafe :latest findings remain
    fixed = docs(target)[0]
    assert fixed["spec"]["transformer"]["containers"][1]["imagePullPolicy"] == "IfNotPresent"
    assert "imagePullPolicy" not in fixed["spec"]["transformer"]["containers"][0]  # unsafe: left alone
    original = TRANSFORMER.read_text().splitlines()
    changed = [i for i, (a, b) in enumerate(zip(original, target.read_text().splitlines())) if a != b]
    assert changed == [20]  # line 21, the sidecar's pull policy, and nothing else


# -- effective annotations ------------------------------------------------------------------------
def test_component_annotations_win_over_the_inference_services_and_disallowed_keys_drop():
    obj = isvc({"team": "a", DEADLINE: "900s", MIN_SCALE: "0", "autoscaling.knative.dev/max-scale": "3"},
               predictor={**PREDICTOR, "annotations": {DEADLINE: "1800s", MIN_SCALE: "2"}},
               transformer=transformer())
    predictor, trans = obj.templates
    assert predictor.annotations == {"team": "a", DEADLINE: "1800s"}
    assert trans.annotations == {"team": "a", DEADLINE: "900s"}
    assert predictor.metadata["annotations"] == {DEADLINE: "1800s", MIN_SCALE: "2"}  # own, as written


def test_labels_merge_the_same_way():
    data = isvc(predictor={**PREDICTOR, "labels": {"tier": "gpu"}}).data
    data["metadata"]["labels"] = {"team": "a", "tier": "cpu", "networking.knative.dev/visibility": "cluster-local"}
    assert K8sObject(data, "").templates[0].labels == {"team": "a", "tier": "gpu"}


def test_other_kinds_keep_their_template_annotations():
    obj = K8sObject({"kind": "Deployment", "metadata": {"annotations": {"a": "1"}},
                     "spec": {"template": {"metadata": {"annotations": {"b": "2"}},
                                           "spec": {"containers": [{"name": "c", "image": "x"}]}}}}, "")
    assert obj.templates[0].annotations == {"b": "2"} and obj.templates[0].merged_annotations is None


# -- scale to zero, per component -----------------------------------------------------------------
@pytest.mark.parametrize("annotations,min_replicas,reason", [
    ({MIN_SCALE: "0"}, None, None),  # min-scale only at the top: KServe drops it and writes 1
    ({MIN_SCALE: "1"}, 0, "KServe minReplicas is 0 in Knative mode"),  # minReplicas rules
    ({MODE: "RawDeployment", AUTOSCALER: "keda"}, 0, "KServe minReplicas is 0 with the KEDA autoscaler"),
    ({MODE: "RawDeployment"}, 0, None),  # HPA clamps to 1
])
def test_predictor_scale_to_zero_reads_min_replicas_not_min_scale(annotations, min_replicas, reason):
    predictor = {**PREDICTOR, **({"minReplicas": min_replicas} if min_replicas is not None else {})}
    obj = isvc(annotations, predictor=predictor)
    assert scale_to_zero_reason(obj, obj.templates[0]) == reason
    assert scale_to_zero_reason(obj) == reason  # no template: the predictor


def test_each_component_scales_on_its_own_min_replicas():
    obj = isvc(predictor={**PREDICTOR, "minReplicas": 0}, transformer=transformer())
    predictor, trans = obj.templates
    assert scale_to_zero_reason(obj, predictor) == "KServe minReplicas is 0 in Knative mode"
    assert scale_to_zero_reason(obj, trans) is None
    obj = isvc(predictor=PREDICTOR, transformer=transformer(minReplicas=0))
    assert scale_to_zero_reason(obj, obj.templates[0]) is None
    assert scale_to_zero_reason(obj, obj.templates[1]) == "KServe transformer minReplicas is 0 in Knative mode"


def test_top_level_autoscaler_class_reaches_the_transformer_and_its_own_wins():
    top = {MODE: "RawDeployment", AUTOSCALER: "keda"}
    obj = isvc(top, predictor=PREDICTOR, transformer=transformer(minReplicas=0))
    assert scale_to_zero_reason(obj, obj.templates[1]) == "KServe transformer minReplicas is 0 with the KEDA autoscaler"
    obj = isvc(top, predictor=PREDICTOR, transformer=transformer(minReplicas=0, annotations={AUTOSCALER: "hpa"}))
    assert scale_to_zero_reason(obj, obj.templates[1]) is None
    obj = isvc({MODE: "RawDeployment"}, predictor=PREDICTOR,
               transformer=transformer(minReplicas=0, annotations={AUTOSCALER: "keda"}))
    assert scale_to_zero_reason(obj, obj.templates[1]) == "KServe transformer minReplicas is 0 with the KEDA autoscaler"


# -- the webhook reads the same model -------------------------------------------------------------
def _needs_transformer_fix() -> dict:
    data = isvc(predictor={"containers": [{"name": "kserve-container", "image": "registry.example/m:v1" + DIGEST}]},
                transformer=transformer()).data
    data["metadata"]["namespace"] = "ml"
    data["spec"]["transformer"]["containers"][0]["imagePullPolicy"] = "Always"
    return data


def test_webhook_patches_the_transformer_at_its_pointer():
    admission = Admission(Settings(fail_on=Severity.ERROR), WebhookPolicy())
    data = _needs_transformer_fix()
    outcome = admission.mutate(review_for(data))
    assert outcome.verdict == "patched"
    ops = json.loads(base64.b64decode(outcome.review["response"]["patch"]))
    assert {"op": "replace", "path": "/spec/transformer/containers/0/imagePullPolicy", "value": "IfNotPresent"} in ops
    patched = jsonpatch.apply_patch(data, ops)
    assert admission.mutate(review_for(patched)).verdict == "allowed"  # a fixed point


def test_webhook_and_cli_find_the_same_things_in_an_inference_service(tmp_path):
    data = _needs_transformer_fix()
    target = tmp_path / "isvc.yaml"
    target.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["check", "--isolated", "--output-format", "json", str(target)])
    cli = {(f["code"], f["path"]) for f in _json_findings(result.output)}
    admission = Admission(Settings(), WebhookPolicy())
    hook = {(f.code, f.path) for f in admission.lint(data)}
    assert ("CS202", "/spec/transformer/containers/0/imagePullPolicy") in hook
    assert cli == hook


def _json_findings(output: str) -> list[dict]:
    body = json.loads(output)
    if isinstance(body, dict):
        body = body.get("findings", body.get("results", []))
    return [f for f in body if isinstance(f, dict) and "code" in f]


def test_webhook_patch_over_real_tls(tmp_path):
    pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    pytest.importorskip("cryptography")
    from webhook_harness import Server
    server = Server(tmp_path)
    try:
        resp = server.review("/mutate", _needs_transformer_fix())
    finally:
        server.stop()
    ops = json.loads(base64.b64decode(resp["patch"]))
    assert {"op": "replace", "path": "/spec/transformer/containers/0/imagePullPolicy", "value": "IfNotPresent"} in ops


@pytest.mark.parametrize("edit,rolls", [
    (lambda d: d["metadata"]["annotations"].update({DEADLINE: "1800s"}), True),  # copied onto revisions
    (lambda d: d["metadata"].update({"labels": {"team": "a"}}), True),  # labels too
    (lambda d: d["metadata"]["annotations"].update({MIN_SCALE: "3"}), False),  # disallowed: dropped
    (lambda d: d["spec"]["transformer"]["containers"][0].update({"image": "t:2"}), True),
    (lambda d: d["spec"]["transformer"].update({"annotations": {DEADLINE: "60s"}}), True),
])
def test_an_inference_services_own_metadata_is_part_of_every_component_template(edit, rolls):
    old = _needs_transformer_fix()
    new = copy.deepcopy(old)
    edit(new)
    assert templates_change(old, new) is rolls


def test_a_top_level_edit_that_every_component_overrides_is_no_rollout():
    old = _needs_transformer_fix()
    for name in ("predictor", "transformer"):
        old["spec"][name]["annotations"] = {DEADLINE: "60s"}
    new = copy.deepcopy(old)
    new["metadata"]["annotations"][DEADLINE] = "1800s"
    assert not templates_change(old, new)
