"""Cross-object rules (CS301–CS303, CS504), scale-from-zero detection, cloud profiles (CS203–CS205)
and the `Fix.new_documents` extension: behaviour the per-rule fixtures cannot show on their own."""

import json

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings as hsettings, strategies as st
from fuzzing import examples

from cslint.cli import main
from cslint.documents import parse_documents
from cslint.engine import Linter
from cslint.fixer import append_documents, fix_text
from cslint.model import Applicability, Fix
from cslint.profiles import LazyPull, ProfileChoice, known_profiles, lazy_pull_rule
from cslint.registries import registry_location
from cslint.registry import Rule, active_rules
from cslint.scaling import collect_scale_context, scale_to_zero_reason
from cslint.settings import Settings
from cslint.sources import SourceText, read_source
from cslint.textedit import EditError
from cslint.warmbuffer import PAUSE_IMAGE
from cslint.workloads import iter_objects

from corpus_paths import CORPUS

GPU_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: serving
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      nodeSelector:
        cloud.google.com/gke-accelerator: nvidia-l4
      tolerations:
        - {{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}}
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          args: ["Qwen/Qwen3-8B"]
          resources:
            limits:
              nvidia.com/gpu: 2
"""
SCALED_OBJECT = """apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: so
  namespace: {namespace}
spec:
  scaleTargetRef: {{name: llama}}
{extra}"""


def objects_of(text: str):
    return [o for d in parse_documents("x.yaml", text) for o in iter_objects(d.data, "", d)]


def lint(files: dict[str, str], **options) -> list:
    results = Linter(Settings(**options)).lint_sources([SourceText(p, t) for p, t in files.items()])
    return [f for r in results for f in r.findings]


# -- scale from zero -----------------------------------------------------------------------------
@pytest.mark.parametrize("text, zero", [
    ("kind: Deployment\napiVersion: apps/v1\nmetadata: {name: a}\nspec: {replicas: 0}", True),
    ("kind: Deployment\napiVersion: apps/v1\nmetadata: {name: a}\nspec: {}", False),
    ("kind: LeaderWorkerSet\napiVersion: leaderworkerset.x-k8s.io/v1\nmetadata: {name: a}\nspec: {replicas: 0}", True),
    ("kind: InferenceService\napiVersion: serving.kserve.io/v1beta1\nmetadata: {name: a}\n"
     "spec: {predictor: {minReplicas: 0}}", True),
    ("kind: InferenceService\napiVersion: serving.kserve.io/v1beta1\nmetadata: {name: a}\nspec: {predictor: {}}", False),
    ("kind: InferenceService\napiVersion: serving.kserve.io/v1beta1\nmetadata:\n  name: a\n  annotations:\n"
     "    serving.kserve.io/deploymentMode: RawDeployment\nspec: {predictor: {minReplicas: 0}}", False),
    ("kind: InferenceService\napiVersion: serving.kserve.io/v1beta1\nmetadata:\n  name: a\n  annotations:\n"
     "    serving.kserve.io/deploymentMode: Standard\n    serving.kserve.io/autoscalerClass: keda\n"
     "spec: {predictor: {minReplicas: 0}}", True),
    ("kind: Service\napiVersion: serving.knative.dev/v1\nmetadata: {name: a}\nspec: {template: {}}", True),
    ("kind: Service\napiVersion: serving.knative.dev/v1\nmetadata: {name: a}\nspec:\n  template:\n    metadata:\n"
     "      annotations: {autoscaling.knative.dev/min-scale: '1'}", False),
])
def test_scale_to_zero_per_kind(text, zero):
    obj = objects_of(text)[0]
    assert (scale_to_zero_reason(obj) is not None) is zero


@pytest.mark.parametrize("namespace, extra, zero", [
    ("serving", "", True),  # minReplicaCount absent: KEDA's default is 0
    ("serving", "  minReplicaCount: 0\n", True),
    ("serving", "  minReplicaCount: 1\n", False),
    ("serving", "  minReplicaCount: 1\n  idleReplicaCount: 0\n", True),
    ("other", "", False),  # a ScaledObject targets its own namespace only
])
def test_keda_targets(namespace, extra, zero):
    objs = objects_of(GPU_DEPLOYMENT.format(name="llama", replicas=1) + "---\n"
                      + SCALED_OBJECT.format(namespace=namespace, extra=extra))
    context = collect_scale_context(objs)
    reason = scale_to_zero_reason(objs[0], objs[0].templates[0], context)
    assert (reason is not None) is zero
    if zero:
        assert "ScaledObject so" in reason


def test_keda_context_reaches_per_object_rules_across_files():
    """The pre-pass fills the context before CS404 (a per-container rule) runs on the first file."""
    files = {"a/deploy.yaml": GPU_DEPLOYMENT.format(name="llama", replicas=1),
             "b/keda.yaml": SCALED_OBJECT.format(namespace="serving", extra="")}
    cs404 = [f for f in lint(files, select=("CS404",))]
    assert len(cs404) == 1 and "goal is cold-start" in cs404[0].message
    alone = lint({"a/deploy.yaml": files["a/deploy.yaml"]}, select=("CS404",))
    assert all("cold-start" not in f.message for f in alone)


# -- CS301 and its unsafe fix: new documents -------------------------------------------------------
def test_cs301_fix_appends_priority_class_and_pause_deployment(tmp_path):
    path = tmp_path / "llm.yaml"
    path.write_text(GPU_DEPLOYMENT.format(name="llama", replicas=0) + "---\n"
                    + GPU_DEPLOYMENT.format(name="mistral", replicas=0))
    result = CliRunner().invoke(main, ["check", str(path), "--select", "CS301,CS302", "--fix", "--unsafe-fixes"])
    assert result.exit_code == 0, result.output
    docs = [d.data for d in parse_documents(str(path), path.read_text())]
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Deployment", "Deployment", "PriorityClass", "Deployment"]  # one buffer serves both
    priority, buffer = docs[2], docs[3]
    assert priority["value"] == -10 and priority["preemptionPolicy"] == "Never" and priority["globalDefault"] is False
    pod = buffer["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == priority["metadata"]["name"]
    assert pod["containers"][0]["image"] == PAUSE_IMAGE and "@sha256:" in PAUSE_IMAGE
    assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 2}
    assert pod["nodeSelector"] == docs[0]["spec"]["template"]["spec"]["nodeSelector"]
    assert pod["tolerations"] == docs[0]["spec"]["template"]["spec"]["tolerations"]
    assert buffer["metadata"]["namespace"] == "serving"
    before = path.read_text()
    again = CliRunner().invoke(main, ["check", str(path), "--select", "CS3", "--fix", "--unsafe-fixes"])
    assert again.exit_code == 0 and path.read_text() == before  # converged, idempotent


def test_cs301_fix_lands_in_the_workload_file_when_keda_is_elsewhere(tmp_path):
    (tmp_path / "deploy.yaml").write_text(GPU_DEPLOYMENT.format(name="llama", replicas=1))
    (tmp_path / "keda.yaml").write_text(SCALED_OBJECT.format(namespace="serving", extra=""))
    keda_before = (tmp_path / "keda.yaml").read_text()
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--select", "CS301", "--fix", "--unsafe-fixes"])
    assert result.exit_code == 0, result.output
    kinds = [d.data["kind"] for d in parse_documents("d", (tmp_path / "deploy.yaml").read_text())]
    assert kinds == ["Deployment", "PriorityClass", "Deployment"]
    assert (tmp_path / "keda.yaml").read_text() == keda_before


def test_cs301_without_unsafe_fixes_changes_nothing(tmp_path):
    path = tmp_path / "llm.yaml"
    path.write_text(GPU_DEPLOYMENT.format(name="llama", replicas=0))
    result = CliRunner().invoke(main, ["check", str(path), "--select", "CS301", "--fix"])
    assert result.exit_code == 1 and "CS301" in result.output
    assert len(list(parse_documents("x", path.read_text()))) == 1


def test_new_documents_are_reported_in_json():
    fix = Fix(Applicability.UNSAFE, (), "t", new_documents=({"kind": "PriorityClass"},))
    assert fix.to_json()["new_documents"] == [{"kind": "PriorityClass"}]
    assert "new_documents" not in Fix(Applicability.SAFE, (), "t").to_json()


@pytest.mark.parametrize("text", ["a: 1", "a: 1\n", "", "a: 1\n---\n"])
def test_append_documents_keeps_the_text_and_adds_a_separator(text):
    out = append_documents(text, [{"kind": "X"}, {"kind": "X"}])
    assert out.startswith(text)
    data = [d.data for d in parse_documents("x", out)]
    assert data[-1] == {"kind": "X"} and data.count({"kind": "X"}) == 1


@pytest.mark.parametrize("text", ["a: 1\r\n", "a: 1\r\nb: 2", "a: 1\r\n---\r\n"])
def test_appended_documents_use_the_file_line_ending(text):
    out = append_documents(text, [{"kind": "X", "data": {"k": "multi\nline"}}])
    assert out.startswith(text) and "\n" not in out.replace("\r\n", "")
    assert [d.data for d in parse_documents("x", out)][-1] == {"kind": "X", "data": {"k": "multi\nline"}}


@pytest.mark.parametrize("text", ['{"a": 1}\n', '  [1]'])
def test_no_document_is_appended_to_a_json_file(text):
    with pytest.raises(EditError, match="JSON file"):
        append_documents(text, [{"kind": "X"}])


ISVC = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: llm
spec:
  predictor:
    minReplicas: 0
    model:
      modelFormat: {name: huggingface}
      resources: {limits: {nvidia.com/gpu: "1"}}
"""


def test_cs301_buffer_in_a_crlf_file_is_crlf_and_a_json_file_is_left_json(tmp_path):
    crlf = tmp_path / "isvc.yaml"
    crlf.write_bytes(ISVC.replace("\n", "\r\n").encode())
    as_json = tmp_path / "isvc.json"
    as_json.write_text(json.dumps(yaml.safe_load(ISVC), indent=2) + "\n")
    before = as_json.read_text()
    result = CliRunner().invoke(main, ["check", "--isolated", str(tmp_path), "--select", "CS301", "--fix",
                                       "--unsafe-fixes"])
    fixed = crlf.read_bytes().decode()
    assert [d.data["kind"] for d in parse_documents("x", fixed)] == ["InferenceService", "PriorityClass", "Deployment"]
    assert "\n" not in fixed.replace("\r\n", "")
    assert as_json.read_text() == before and "one JSON value per file" in result.output
    json.loads(as_json.read_text())


# -- CS504: safe fix across files ------------------------------------------------------------------
def test_cs504_fix_sets_enable_service_links_in_the_workload_file(tmp_path):
    (tmp_path / "deploy.yaml").write_text(GPU_DEPLOYMENT.format(name="llama", replicas=1))
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: vllm, namespace: serving}\n"
                                       "spec: {ports: [{port: 8000}]}\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--select", "CS504", "--fix"])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((tmp_path / "deploy.yaml").read_text())
    assert data["spec"]["template"]["spec"]["enableServiceLinks"] is False


# -- CS505 as a property ----------------------------------------------------------------------------
@hsettings(max_examples=examples(40), deadline=None)
@given(gpus=st.integers(1, 16), tp=st.integers(1, 8), pp=st.integers(1, 4))
def test_cs505_fires_exactly_when_counts_differ(gpus, tp, pp):
    text = GPU_DEPLOYMENT.format(name="llama", replicas=1).replace(
        '["Qwen/Qwen3-8B"]', f'["Qwen/Qwen3-8B", "-tp", "{tp}", "--pipeline_parallel_size={pp}"]').replace(
        "nvidia.com/gpu: 2", f"nvidia.com/gpu: {gpus}")
    found = lint({"x.yaml": text}, select=("CS505",))
    assert bool(found) is (gpus != tp * pp)


# -- CS506 fix ---------------------------------------------------------------------------------------
def test_cs506_fix_creates_the_annotation_maps():
    text = ("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: llama\nspec:\n  template:\n"
            "    spec:\n      containers:\n        - image: vllm/vllm-openai:v0.11.0\n")
    linter = Linter(Settings(select=("CS506",)))
    outcome = fix_text("k.yaml", text, linter, Applicability.UNSAFE)
    assert outcome.error is None and outcome.fixed["CS506"] == 1
    data = yaml.safe_load(outcome.text)
    assert data["spec"]["template"]["metadata"]["annotations"] == {"serving.knative.dev/progress-deadline": "1500s"}


# -- profiles ----------------------------------------------------------------------------------------
def test_gke_rules_run_only_with_the_gke_profile():
    portable = {r.code for rules in active_rules(Settings()).values() for r in rules}
    gke = {r.code for rules in active_rules(Settings(profile="gke")).values() for r in rules}
    assert {"CS204", "CS205", "CS303"} <= gke - portable
    assert {"CS203", "CS301", "CS302", "CS504", "CS505", "CS506"} <= portable & gke


def test_a_new_profile_is_one_rule_file_away():
    """An `aks` rule declared with the lazy-pull mechanism makes `--profile aks` valid and works."""
    import re
    spec = LazyPull(profile="aks", feature="AKS Artifact Streaming", registry_service="ACR",
                    hosts=(re.compile(r"^[a-z0-9]+\.azurecr\.io$"),), reference="https://learn.microsoft.com/azure/aks/artifact-streaming")
    meta, check = lazy_pull_rule("CS299", "artifact-streaming-ineligible", spec, docs="")
    rules = [Rule(meta, check, "test")]
    assert "aks" in known_profiles(rules) and "portable" in known_profiles(rules)
    c = objects_of(GPU_DEPLOYMENT.format(name="llama", replicas=1))[0].templates[0].containers[0]
    assert [v.path for v in check(c, Settings(profile="aks"))] == [c.at("image")]
    c.data["image"] = "myreg.azurecr.io/vllm:v1"
    assert list(check(c, Settings(profile="aks"))) == []


def test_profile_choice_rejects_unknown_profiles():
    result = CliRunner().invoke(main, ["check", "--profile", "nope", "x.yaml"])
    assert result.exit_code == 2 and "nope" in result.output
    assert ProfileChoice().convert("gke", None, None) == "gke"


@pytest.mark.parametrize("host, location", [
    ("us-central1-docker.pkg.dev", "us-central1"), ("europe-docker.pkg.dev", "europe"),
    ("gcr.io", "us"), ("eu.gcr.io", "europe"), ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1"),
    ("myreg.azurecr.io", None), ("docker.io", "-"), ("ghcr.io", "-"),
])
def test_registry_locations(host, location):
    found = registry_location(host)
    assert (found.location if found else "-") == location


@pytest.mark.parametrize("location, region, same", [
    ("us", "us-central1", True), ("us", "europe-west4", False), ("europe", "europe-west4", True),
    ("us-central1", "us-central1", True), ("us-central1", "us-east1", False),
])
def test_registry_serves_region(location, region, same):
    from cslint.registries import RegistryLocation
    assert RegistryLocation("gcp", "Artifact Registry", location).serves(region) is same


# -- corpus --------------------------------------------------------------------------------------------
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present in this clone")
def test_corpus_runs_as_one_set_without_a_crash():
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml"))
    settings = Settings(profile="gke", region="us-central1", select=("CS2", "CS3", "CS5"))
    results = Linter(settings).lint_sources([read_source(str(p)) for p in files])
    objects = [o for r in results for d in r.documents if d.error is None for o in iter_objects(d.data, "", d)]
    assert any(o.kind == "ComputeClass" for o in objects) and any(o.kind == "ScaledObject" for o in objects)
    codes = {f.code for r in results for f in r.findings}
    assert {"CS204", "CS303", "CS505"} <= codes
    # the corpus ScaledObject keeps minReplicaCount: 1, so it makes nothing scale to zero
    assert collect_scale_context(objects).keda_zero_targets == set()


def test_node_constraints_read_nodeselector_and_one_required_affinity_term():
    from cslint.warmbuffer import node_constraints, node_selector
    from cslint.workloads import K8sObject

    def template(spec: dict):
        return K8sObject({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}, "").templates[0]

    def affinity(*terms):
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}
    zone = {"key": "zone", "operator": "In", "values": ["a", "b"]}
    gpu = {"key": "gpu", "operator": "In", "values": ["l4", "h100"]}
    one_term = template({"nodeSelector": {"gpu": "l4"}, "affinity": affinity({"matchExpressions": [zone, gpu]})})
    assert node_constraints(one_term) == {"zone": frozenset("ab"), "gpu": frozenset(["l4"])}  # both must hold
    assert node_selector(one_term) == {"gpu": "l4"}  # only labels pinned to one value
    alternatives = template({"affinity": affinity({"matchExpressions": [zone]}, {"matchExpressions": [gpu]})})
    assert node_constraints(alternatives) == {}  # either term may hold: neither binds
    not_in = template({"affinity": affinity({"matchExpressions": [{"key": "gpu", "operator": "NotIn", "values": ["t4"]}]})})
    assert node_constraints(not_in) == {}
