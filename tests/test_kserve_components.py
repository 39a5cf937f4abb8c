"""An InferenceService's transformer and explainer are pod templates too, and every component's
pods carry the InferenceService's own annotations under the component's — one model that
`cslint check` (the pre-commit hooks' entry), `--fix` and the admission webhook all read.

KServe v0.20.0 facts encoded (linter/podtemplates.py cites the sources): each component is an
inline PodSpec with its own `minReplicas`; the predictor's `model` and the explainer's `art` are
inline containers run as `kserve-container`; components/{predictor,transformer,explainer}.go
merge `utils.Union(filtered isvc annotations, filtered component annotations)`, so the
component wins; ServiceAnnotationDisallowedList drops `autoscaling.knative.dev/min-scale` and
`max-scale` from both, and SetAutoScalingAnnotations writes min-scale from `minReplicas` (1 when
unset) — a hand-written min-scale is never honoured (domain.md §2.2). The predictor's pods also
carry the `spec.annotations`/`labels` of the ServingRuntime its `model.runtime` names, lowest of all,
and its multi-node workers the runtime's `spec.workerSpec` ones; the runtime is found in the run
(linter/servingruntimes.py), namespaced before cluster-scoped, as KServe's GetServingRuntime does;
without `model.runtime`, the runtime KServe auto-selects by model format, when the run decides it
(a ServingRuntime of the namespace alone at the top priority; cluster-only candidates and ties stay
unresolved).
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
from cslint.scaling import collect_scale_context, scale_to_zero_reason
from cslint.settings import Settings
from cslint.sources import discover, pending_source, read_source
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


# -- the ServingRuntime a predictor names ---------------------------------------------------------
# kserve master (0.21 dev) components/predictor.go: buildObjectMeta `utils.Union(sRuntimeAnnotations,
# annotations, predictorAnnotations)` (runtime lowest, each filtered by the disallowed list);
# reconcileWorker `utils.Union(sRuntime.WorkerSpec.Annotations, annotations, predictorAnnotations)`;
# inferenceservice/utils GetServingRuntime: the namespace's ServingRuntime, else the cluster's.
RUNTIME_DIR = FIXTURES / "servingruntime-deadline"


def runtime(name: str = "vllm", namespace: str | None = "ml", cluster: bool = False, **spec) -> dict:
    meta = {"name": name} if cluster else {"name": name, "namespace": namespace}
    return {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ClusterServingRuntime" if cluster else "ServingRuntime",
            "metadata": meta, "spec": {"containers": [{"name": "kserve-container", "image": "x:1"}], **spec}}


def in_run(obj: K8sObject, *runtimes: dict) -> K8sObject:
    """The object as the engine hands it to rules: with the run's context attached."""
    obj.context = collect_scale_context(K8sObject(r, "") for r in runtimes)
    obj.__dict__.pop("templates", None)
    return obj


def named(runtime_name: str | None = "vllm", namespace: str | None = "ml", annotations: dict | None = None,
          **components: dict) -> K8sObject:
    """An InferenceService whose predictor's `model` names `runtime_name`."""
    model = {**PREDICTOR["model"], **({"runtime": runtime_name} if runtime_name else {})}
    obj = isvc(annotations, predictor={"model": model}, **components)
    if namespace:
        obj.data["metadata"]["namespace"] = namespace
    return obj


def test_runtime_annotations_sit_under_the_inference_services_and_the_predictors():
    rt = runtime(annotations={"a": "runtime", "b": "runtime", "c": "runtime", MIN_SCALE: "0"},
                 labels={"tier": "runtime", "team": "runtime"})
    obj = named(annotations={"b": "isvc"})
    obj.data["spec"]["predictor"].update(annotations={"c": "predictor"}, labels={"tier": "gpu"})
    obj.data["spec"]["transformer"] = transformer()
    predictor, trans = in_run(obj, rt).templates
    assert predictor.annotations == {"a": "runtime", "b": "isvc", "c": "predictor"}  # min-scale: disallowed
    assert predictor.labels == {"tier": "gpu", "team": "runtime"}
    assert trans.annotations == {"b": "isvc"}  # a transformer has no runtime
    source = predictor.annotation_source("a")
    assert (source.label, source.pointer) == ("ServingRuntime vllm's spec.annotations", None)
    assert predictor.annotation_source("b").pointer == "/metadata/annotations"
    assert predictor.annotation_source("c").pointer == "/spec/predictor/annotations"
    assert predictor.annotation_source("missing") is None


@pytest.mark.parametrize("runtimes,namespace,expected", [
    ([runtime(annotations={"from": "ns"}), runtime(cluster=True, annotations={"from": "cluster"})], "ml", "ns"),
    ([runtime(annotations={"from": "ns"}), runtime(cluster=True, annotations={"from": "cluster"})], "other", "cluster"),
    ([runtime(annotations={"from": "ns"})], "other", None),  # a namespaced runtime stays in its namespace
    ([runtime(namespace=None, annotations={"from": "ns"})], None, "ns"),  # no namespace: one shared one
    ([runtime(cluster=True, annotations={"from": "cluster"})], "anywhere", "cluster"),
    # a disabled runtime still shadows the cluster one: KServe finds it, then refuses the predictor
    ([runtime(disabled=True, annotations={"from": "ns"}), runtime(cluster=True, annotations={"from": "c"})], "ml", None),
    # two different definitions of one runtime in a run: which applies is unknown
    ([runtime(annotations={"from": "a"}), runtime(annotations={"from": "b"})], "ml", None),
    ([runtime(annotations={"from": "a"}), runtime(annotations={"from": "a"})], "ml", "a"),  # the same twice is one
    ([runtime(name="other", annotations={"from": "ns"})], "ml", None),
])
def test_the_runtime_is_found_by_name_as_kserve_finds_it(runtimes, namespace, expected):
    obj = in_run(named(namespace=namespace), *runtimes)
    assert obj.templates[0].annotations.get("from") == expected


# -- the ServingRuntime KServe auto-selects ---------------------------------------------------------
# pkg/apis/serving/v1beta1/predictor_model.go GetSupportingRuntimes: the namespace's runtimes, then
# the cluster's, each filtered (not disabled, not multiModel, workerSpec iff the predictor's, the
# model's protocol, an autoSelect entry of its format and version) and sorted by priority; the first
# wins. Decided here only by a ServingRuntime of the namespace that alone holds the top priority.
def auto(name: str = "vllm", priority: int | None = None, version: str | None = None, auto_select: bool | None = True,
         fmt: str = "huggingface", **kw) -> dict:
    """A runtime whose one supportedModelFormats entry is `fmt` (annotated `from: name`)."""
    entry = {"name": fmt, **({"version": version} if version else {}),
             **({"autoSelect": auto_select} if auto_select is not None else {}),
             **({"priority": priority} if priority is not None else {})}
    return runtime(name, annotations={"from": name}, supportedModelFormats=[entry], **kw)


def picked(*runtimes: dict, namespace: str | None = "ml", **model) -> tuple[str | None, str | None]:
    """(the runtime the predictor's pods take metadata from, why none) for an auto-selecting model."""
    obj = named(runtime_name=None, namespace=namespace)
    obj.data["spec"]["predictor"]["model"].update(model)
    tpl = in_run(obj, *runtimes).templates[0]
    source = tpl.model_runtime
    assert source is not None and source.auto_selected
    assert (source.runtime.name if source.runtime else None) == tpl.annotations.get("from")
    return tpl.annotations.get("from"), source.why


@pytest.mark.parametrize("runtimes,model,expected", [
    ([auto("vllm")], {}, "vllm"),  # by format
    ([auto("a", fmt="sklearn"), auto("b")], {}, "b"),
    ([auto("low", priority=1), auto("high", priority=2)], {}, "high"),  # by priority
    ([auto("none"), auto("set", priority=1)], {}, "set"),  # a set priority before an unset one
    ([auto("off", priority=9, disabled=True), auto("on", priority=1)], {}, "on"),  # disabled: skipped
    ([auto("mms", priority=9, multiModel=True), auto("sms")], {}, "sms"),  # ModelMesh runtimes: skipped
    ([auto("manual", priority=9, auto_select=False), auto("auto")], {}, "auto"),  # autoSelect false: skipped
    ([auto("manual", priority=9, auto_select=None), auto("auto")], {}, "auto"),  # autoSelect unset: skipped
    ([auto("v1", version="1", priority=9), auto("v2", version="2")], {"modelFormat": {"name": "huggingface", "version": "2"}},
     "v2"),  # a model's version must match exactly
    ([auto("v1", version="1")], {}, "v1"),  # a model without a version takes any version
    ([auto("grpc", priority=9, protocolVersions=["grpc-v2"]), auto("rest", protocolVersions=["v1", "v2"])], {}, "rest"),
    ([auto("v2only", priority=9, protocolVersions=["v2"]), auto("any")], {"protocolVersion": "v2"}, "v2only"),
    ([auto("v2only", priority=9, protocolVersions=["v2"]), auto("any")], {"protocolVersion": ""}, "v2only"),  # "": any
    # namespaced before cluster, whatever the cluster runtime's priority
    ([auto("cluster", priority=9, cluster=True), auto("ns")], {}, "ns"),
    ([auto("elsewhere", priority=9, namespace="other"), auto("here")], {}, "here"),
])
def test_the_auto_selected_runtime_is_kserves_first_supporting_runtime(runtimes, model, expected):
    assert picked(*runtimes, **model) == (expected, None)


@pytest.mark.parametrize("runtimes,model,why", [
    ([], {}, "no runtime in this run auto-selects huggingface"),
    ([auto("v1", version="1")], {"modelFormat": {"name": "huggingface", "version": "2"}},
     "no runtime in this run auto-selects huggingface:2"),
    ([auto("v2only", protocolVersions=["v2"])], {}, "no runtime in this run auto-selects huggingface"),  # v1 default
    ([auto("kserve-huggingfaceserver", priority=1, cluster=True)], {},
     "only ClusterServingRuntime kserve-huggingfaceserver auto-selects huggingface in this run; one outside it may win"),
    ([auto("a", cluster=True), auto("b", priority=3, cluster=True)], {},
     "only ClusterServingRuntimes a, b auto-select huggingface in this run; one outside it may win"),
    ([auto("a", priority=2), auto("b", priority=2), auto("c", priority=1)], {},
     "ServingRuntimes a and b tie at priority 2 for huggingface"),
    ([auto("a"), auto("b")], {},
     "ServingRuntimes a and b tie with no priority for huggingface"),
    ([auto("a", priority=1), auto("a", priority=2), auto("b")], {},
     "ServingRuntime a is defined twice, differently"),
    ([runtime("odd", supportedModelFormats=[{"name": "huggingface", "autoSelect": "yes"}]), auto("b")], {},
     "ServingRuntime odd's supportedModelFormats are not readable"),
    ([auto("b")], {"modelFormat": {"version": "1"}}, "its modelFormat is not readable"),
])
def test_an_auto_selection_the_run_does_not_decide_is_not_resolved(runtimes, model, why):
    assert picked(*runtimes, **model) == (None, why)


def test_a_differently_defined_runtime_that_cannot_be_picked_does_not_block_the_choice():
    assert picked(auto("x", fmt="sklearn", priority=1), auto("x", fmt="sklearn", priority=2), auto("vllm")) == ("vllm", None)


def test_priority_is_read_from_the_first_entry_of_the_format_name_as_kserve_does():
    """GetPriority takes the first entry of that name, whether it auto-selects or not."""
    first = runtime("first", annotations={"from": "first"}, supportedModelFormats=[
        {"name": "huggingface", "version": "0", "priority": 5},
        {"name": "huggingface", "version": "1", "autoSelect": True, "priority": 1}])
    assert picked(first, auto("other", priority=3)) == ("first", None)


def test_multi_node_predictors_and_runtimes_only_pick_each_other():
    worker = {"containers": [{"name": "worker-container", "image": "x:1"}], "annotations": {"w": "multi"}}
    single, multi = auto("single", priority=9), auto("multi", workerSpec=worker)
    assert picked(single, multi) == ("single", None)
    obj = named(runtime_name=None)
    obj.data["spec"]["predictor"]["workerSpec"] = {"containers": [{"name": "w", "image": "vllm/vllm-openai:v1"}]}
    head, workers = in_run(obj, single, multi).templates
    assert head.annotations == {"from": "multi"} and workers.annotations == {"w": "multi"}
    assert workers.annotation_source("w").label == "auto-selected ServingRuntime multi's spec.workerSpec.annotations"


def test_an_auto_selected_runtimes_annotations_are_named_as_such():
    tpl = in_run(named(runtime_name=None), auto("vllm")).templates[0]
    assert tpl.annotation_source("from").label == "auto-selected ServingRuntime vllm's spec.annotations"


def test_an_empty_runtime_name_is_looked_up_not_auto_selected():
    """KServe's `Runtime != nil`: an empty name is searched for, and found nowhere."""
    obj = named(runtime_name=None)
    obj.data["spec"]["predictor"]["model"]["runtime"] = ""
    tpl = in_run(obj, auto("vllm")).templates[0]
    assert "from" not in tpl.annotations and not tpl.model_runtime.auto_selected


def test_a_predictor_without_model_gets_no_runtime():
    """KServe reads a runtime on the `model` path only (custom containers leave sRuntime empty)."""
    obj = isvc(predictor={"containers": [{"name": "kserve-container", "image": "vllm/vllm-openai:v0.11.0"}]})
    obj.data["spec"]["predictor"]["model"] = "vllm"  # not a ModelSpec
    assert in_run(obj, runtime(namespace=None, annotations={"from": "ns"})).templates[0].annotations == {}


def test_workers_get_the_runtime_worker_metadata_under_the_inference_services_and_the_predictors():
    rt = runtime(annotations={"head-only": "1"},
                 workerSpec={"annotations": {"w": "runtime", "team": "runtime", MIN_SCALE: "1"},
                             "labels": {"role": "worker", "networking.knative.dev/visibility": "x"},
                             "containers": [{"name": "worker-container", "image": "x:1"}]})
    data = named(annotations={"team": "isvc", MIN_SCALE: "0"}).data
    data["spec"]["predictor"].update(annotations={"p": "predictor"}, labels={"tier": "gpu"},
                                     workerSpec={"tensorParallelSize": 2,
                                                 "containers": [{"name": "w", "image": "vllm/vllm-openai:v1"}]})
    data["metadata"]["labels"] = {"team": "a"}
    worker = in_run(K8sObject(data, ""), rt).templates[1]
    assert worker.role == "worker" and worker.spec_pointer == "/spec/predictor/workerSpec"
    # the runtime's worker annotations are not filtered (a min-scale there survives); the head's are not
    # the workers', and the InferenceService's min-scale is dropped as for the head
    assert worker.annotations == {"w": "runtime", MIN_SCALE: "1", "team": "isvc", "p": "predictor"}
    assert worker.labels == {"role": "worker", "networking.knative.dev/visibility": "x", "team": "a", "tier": "gpu"}


def test_workers_without_a_runtime_still_get_the_inference_services_and_predictors_metadata():
    data = named(annotations={"team": "isvc"}).data
    data["spec"]["predictor"].update(annotations={"p": "1"}, workerSpec={"containers": [{"name": "w", "image": "x"}]})
    worker = K8sObject(data, "").templates[1]
    assert worker.annotations == {"team": "isvc", "p": "1"}


def test_a_serving_runtimes_worker_template_carries_its_worker_annotations():
    rt = K8sObject(runtime(annotations={"a": "1"}, workerSpec={"annotations": {"w": "1"}, "labels": {"l": "1"},
                                                               "containers": [{"name": "c", "image": "x"}]}), "")
    assert [(t.role, t.annotations, t.labels) for t in rt.templates] == [
        ("runtime", {"a": "1"}, {}), ("worker", {"w": "1"}, {"l": "1"})]


# -- the engine's pre-pass ------------------------------------------------------------------------
def test_the_pre_pass_parses_only_files_that_name_a_runtime(tmp_path):
    (tmp_path / "a-runtime.yaml").write_text(yaml.safe_dump(runtime(annotations={DEADLINE: "300s"})))
    (tmp_path / "b-isvc.yaml").write_text(yaml.safe_dump(named().data))
    (tmp_path / "c-other.yaml").write_text("kind: ConfigMap\nmetadata: {name: x}\n")
    linter = Linter(Settings(select=("CS506",)))
    sources = [pending_source(str(p)) for p in sorted(tmp_path.iterdir())]
    early = linter.collect_context(sources)
    assert sorted(early) == [0]  # only the runtime's file was read and parsed
    assert linter.context.runtimes.find("vllm", "ml") is not None


def test_a_runtime_in_another_file_reaches_the_predictor_and_the_fix_lands_on_the_predictor(tmp_path):
    for f in RUNTIME_DIR.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    result = CliRunner().invoke(main, ["check", "--isolated", "--select", "CS506", "--fix", "--unsafe-fixes",
                                       str(tmp_path)])
    assert result.exit_code == 0, result.output
    fixed = {d["metadata"]["name"]: d for d in docs(tmp_path / "inference-services.yaml")}
    assert fixed["shadowed"]["spec"]["predictor"]["annotations"] == {DEADLINE: "1500s"}
    assert "annotations" not in fixed["cluster-runtime"]["spec"]["predictor"]
    assert docs(tmp_path / "runtimes.yaml") == docs(RUNTIME_DIR / "runtimes.yaml")  # another object: untouched


def test_the_runtime_is_seen_alike_by_a_parallel_run(tmp_path):
    from cslint.parallel import MIN_FILES, lint_parallel
    (tmp_path / "runtime.yaml").write_text(yaml.safe_dump(runtime(namespace=None, annotations={DEADLINE: "1h"})))
    for i in range(MIN_FILES):
        data = named(namespace=None).data
        data["metadata"]["name"] = f"m{i}"
        (tmp_path / f"isvc-{i:03}.yaml").write_text(yaml.safe_dump(data))
    sources = [read_source(p) for p in discover([str(tmp_path)])]
    serial = Linter(Settings(select=("CS506",))).lint_sources(list(sources))
    parallel = lint_parallel(Linter(Settings(select=("CS506",))), list(sources), jobs=2)
    assert [f.code for r in serial for f in r.findings] == [] == [f.code for r in parallel for f in r.findings]


# -- CS506, per component -------------------------------------------------------------------------
def test_cs506_judges_each_engine_component_and_names_the_runtime_as_the_source():
    from cslint.rules.cs506_progress_deadline import check
    rt = runtime(annotations={DEADLINE: "300s"})
    obj = in_run(named(transformer={"containers": [{"name": "kserve-container", "image": "vllm/vllm-openai:v1"}]}), rt)
    found = list(check(obj, Settings()))
    assert [v.path for v in found] == ["/spec/predictor/annotations/serving.knative.dev~1progress-deadline",
                                       "/spec/transformer/annotations/serving.knative.dev~1progress-deadline"]
    assert "predictor's" in found[0].message and "from ServingRuntime vllm's spec.annotations" in found[0].message
    assert "is unset" in found[1].message  # the transformer gets no runtime annotations
    assert found[0].fix.operations == ({"op": "add", "path": "/spec/predictor/annotations",
                                        "value": {DEADLINE: "1500s"}},)


def test_cs506_names_an_auto_selected_runtime_as_the_source():
    from cslint.rules.cs506_progress_deadline import check
    rt = runtime(annotations={DEADLINE: "300s"}, supportedModelFormats=[{"name": "huggingface", "autoSelect": True}])
    [found] = list(check(in_run(named(runtime_name=None), rt), Settings()))
    assert "from auto-selected ServingRuntime vllm's spec.annotations" in found.message


# -- CS401, a predictor's /dev/shm from its runtime ------------------------------------------------
# kserve components/predictor.go: MergeRuntimeContainers(runtime's kserve-container, model) and
# MergePodSpec(runtime's ServingRuntimePodSpec, predictor's PodSpec), both strategic merges, so a
# `model` without a /dev/shm mount gets the runtime's mount and volume. The shipped
# kserve-huggingfaceserver mounts `devshm`, emptyDir Memory with no sizeLimit (domain.md §2.4).
def shm_runtime(volume: dict | None = None, name: str = "devshm", **spec) -> dict:
    """A runtime whose kserve-container mounts `name` at /dev/shm (its volume: `volume`, or none)."""
    rt = runtime(**spec)
    rt["spec"]["containers"][0]["volumeMounts"] = [{"name": name, "mountPath": "/dev/shm"}]
    if volume is not None:
        rt["spec"]["volumes"] = [{"name": name, **volume}]
    return rt


def cs401(obj: K8sObject) -> list:
    from cslint.rules.cs401_shm import check
    model = obj.templates[0].containers[0]
    assert model.pointer == "/spec/predictor/model"
    return list(check(model, Settings()))


@pytest.mark.parametrize("volume,words", [
    ({"emptyDir": {"medium": "Memory"}}, "which has no sizeLimit"),  # kserve-huggingfaceserver's
    ({"emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}}, "which has a sizeLimit of 2Gi only"),
    ({"emptyDir": {"sizeLimit": "16Gi"}}, "which is disk-backed"),
    ({"hostPath": {"path": "/dev/shm"}}, "which is not an emptyDir"),
    (None, "which the runtime does not define"),
])
def test_cs401_names_the_runtime_whose_dev_shm_falls_short(volume, words):
    [found] = cs401(in_run(named(), shm_runtime(volume)))
    assert found.message.startswith(f"/dev/shm comes from ServingRuntime vllm's volume 'devshm', {words}")
    assert "no /dev/shm mount" not in found.message
    assert found.path == "/spec/predictor/model"
    assert found.fix.operations == (
        {"op": "add", "path": "/spec/predictor/volumes",
         "value": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}]},
        {"op": "add", "path": "/spec/predictor/model/volumeMounts", "value": [{"name": "dshm", "mountPath": "/dev/shm"}]})


def test_cs401_passes_a_predictor_whose_runtime_mounts_enough_or_shares_the_hosts_ipc():
    assert cs401(in_run(named(), shm_runtime({"emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}))) == []
    assert cs401(in_run(named(), runtime(hostIPC=True))) == []


@pytest.mark.parametrize("runtime_volume,own_volume,words", [
    ({"emptyDir": {"medium": "Memory"}}, {"emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}, None),
    (None, {"emptyDir": {"medium": "Memory", "sizeLimit": "32Gi"}}, None),
    ({"emptyDir": {"medium": "Memory"}}, {"emptyDir": {"sizeLimit": "16Gi"}}, None),  # merged: both keys
    ({"emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}, {"emptyDir": {"sizeLimit": "1Gi"}},
     "which has a sizeLimit of 1Gi only"),
])
def test_cs401_judges_the_runtimes_dev_shm_volume_as_merged_with_the_predictors_of_that_name(
        runtime_volume, own_volume, words):
    """MergePodSpec merges the predictor's volumes into the runtime's by name, the predictor's
    fields winning: a predictor that defines the runtime's `devshm` with a sizeLimit has one."""
    obj = named()
    obj.data["spec"]["predictor"]["volumes"] = [{"name": "devshm", **own_volume}]
    found = cs401(in_run(obj, shm_runtime(runtime_volume)))
    assert [f.message.split(", ", 1)[1][:len(words)] for f in found] == ([words] if words else [])


def test_cs401_says_neither_the_predictor_nor_its_runtime_mounts_dev_shm():
    [found] = cs401(in_run(named(), runtime(cluster=True)))
    assert found.message.startswith("no /dev/shm mount in the predictor nor in its ClusterServingRuntime vllm:")


@pytest.mark.parametrize("runtime_name,runtimes,words", [
    ("vllm", (), "its runtime 'vllm' is not in this run"),
    ("vllm", (runtime(disabled=True),), "its runtime 'vllm' is not in this run"),
    (None, (shm_runtime({"emptyDir": {"medium": "Memory"}}, supportedModelFormats=[{"name": "huggingface"}]),),
     "its auto-selected runtime is unknown here (no runtime in this run auto-selects huggingface)"),
    (None, (shm_runtime(cluster=True, supportedModelFormats=[{"name": "huggingface", "autoSelect": True}]),),
     "its auto-selected runtime is unknown here (only ClusterServingRuntime vllm auto-selects huggingface in this "
     "run; one outside it may win)"),
])
def test_cs401_does_not_claim_what_an_unresolved_runtime_mounts(runtime_name, runtimes, words):
    [found] = cs401(in_run(named(runtime_name=runtime_name), *runtimes))
    assert found.message.startswith(f"the predictor mounts no /dev/shm and {words}: unless that runtime mounts 16Gi")
    assert "no /dev/shm mount" not in found.message
    assert found.fix.title == "Mount a 16Gi memory-backed emptyDir at /dev/shm"


def test_cs401_judges_the_auto_selected_runtimes_dev_shm():
    hf = [{"name": "huggingface", "autoSelect": True}]
    [found] = cs401(in_run(named(runtime_name=None), shm_runtime({"emptyDir": {"medium": "Memory"}},
                                                                 supportedModelFormats=hf)))
    assert found.message.startswith("/dev/shm comes from the auto-selected ServingRuntime vllm's volume 'devshm', "
                                    "which has no sizeLimit")
    [found] = cs401(in_run(named(runtime_name=None), runtime(supportedModelFormats=hf)))
    assert found.message.startswith("no /dev/shm mount in the predictor nor in its auto-selected ServingRuntime vllm:")
    sized = shm_runtime({"emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}, supportedModelFormats=hf)
    assert cs401(in_run(named(runtime_name=None), sized)) == []


def test_cs401_on_a_tpu_predictor_judges_the_runtimes_medium_not_its_size():
    """No NCCL on TPUs: the 16Gi floor is not theirs, a memory-backed mount is."""
    def tpu(obj: K8sObject) -> K8sObject:
        obj.data["spec"]["predictor"]["model"]["resources"] = {"limits": {"google.com/tpu": 4}}
        return obj
    assert cs401(in_run(tpu(named()), shm_runtime({"emptyDir": {"medium": "Memory"}}))) == []
    [found] = cs401(in_run(tpu(named()), shm_runtime({"emptyDir": {"sizeLimit": "1Gi"}})))
    assert found.message.startswith("/dev/shm comes from ServingRuntime vllm's volume 'devshm', which is disk-backed; "
                                    "vLLM's shared-memory broadcast needs it in memory")
    [found] = cs401(in_run(tpu(named()), runtime()))
    assert "stalls vLLM's shared-memory broadcast between workers" in found.message and "NCCL" not in found.message


def test_cs401_fix_volume_is_not_merged_into_the_runtimes_volume_of_the_same_name():
    [found] = cs401(in_run(named(), shm_runtime({"hostPath": {"path": "/dev/shm"}}, name="dshm")))
    assert [op["value"][0]["name"] for op in found.fix.operations] == ["dshm-2", "dshm-2"]


# -- CS406 / CS407: the memory limit must cover the runtime's /dev/shm too ------------------------
def model_check(rule: str, obj: K8sObject) -> list:
    import importlib
    module = importlib.import_module(f"cslint.rules.{rule}")
    return list(module.check(obj.templates[0].containers[0], Settings()))


def with_memory(obj: K8sObject, memory: str | None) -> K8sObject:
    model = obj.data["spec"]["predictor"]["model"]
    model["resources"] = {"limits": {"nvidia.com/gpu": 1, **({"memory": memory} if memory else {})}}
    return obj


def test_cs406_counts_the_runtimes_dev_shm_against_the_predictors_memory_limit():
    """32Gi of runtime tmpfs + 8Gi engine RSS do not fit 36Gi: the pod is OOM-killed at startup,
    though the predictor mounts no /dev/shm of its own (the 16Gi minimum would have fit)."""
    big = shm_runtime({"emptyDir": {"medium": "Memory", "sizeLimit": "32Gi"}})
    [found] = model_check("cs406_memory_shm_rss", in_run(with_memory(named(), "36Gi"), big))
    assert found.message.startswith("memory limit 36Gi is below shm 32Gi from ServingRuntime vllm's volume 'devshm' "
                                    "+ engine 8Gi = 40Gi")
    assert found.fix.operations[0]["value"] == "40Gi"
    assert model_check("cs406_memory_shm_rss", in_run(with_memory(named(), "40Gi"), big)) == []
    # the predictor's own volume of that name is merged in, its sizeLimit winning
    obj = with_memory(named(), "36Gi")
    obj.data["spec"]["predictor"]["volumes"] = [{"name": "devshm", "emptyDir": {"sizeLimit": "16Gi"}}]
    assert model_check("cs406_memory_shm_rss", in_run(obj, big)) == []


def test_cs407_warns_when_the_runtimes_memory_backed_dev_shm_meets_no_memory_limit():
    memory = shm_runtime({"emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}})
    [found] = model_check("cs407_memory_limit_missing", in_run(with_memory(named(), None), memory))
    assert found.message.startswith("memory-backed /dev/shm (from ServingRuntime vllm's volume 'devshm') but no "
                                    "memory limit")
    assert found.path == "/spec/predictor/model/resources"
    disk = shm_runtime({"emptyDir": {"sizeLimit": "16Gi"}})
    assert model_check("cs407_memory_limit_missing", in_run(with_memory(named(), None), disk)) == []
    assert model_check("cs407_memory_limit_missing", in_run(with_memory(named(), None), runtime())) == []
    assert model_check("cs407_memory_limit_missing", in_run(with_memory(named(), "40Gi"), memory)) == []


def test_cs401_on_a_predictor_with_its_own_dev_shm_mount_is_unchanged():
    obj = named()
    obj.data["spec"]["predictor"]["model"]["volumeMounts"] = [{"name": "shm", "mountPath": "/dev/shm"}]
    obj.data["spec"]["predictor"]["volumes"] = [{"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}]
    assert cs401(in_run(obj, shm_runtime({"emptyDir": {"medium": "Memory"}}))) == []
