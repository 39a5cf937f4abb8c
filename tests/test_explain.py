"""`cslint explain-cold-start`: the four levers per engine workload, from the manifest and the findings."""
import json
import shutil
from pathlib import Path

from click.testing import CliRunner
import pytest

from cslint.cli import main
from cslint.engine import Linter
from cslint.explain import LEVERS, budgets, markdown_section
from cslint.model import Lever
from cslint.settings import Settings
from cslint.sources import SourceText

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: llama, namespace: serving}
spec:
  selector: {matchLabels: {app: llama}}
  template:
    metadata: {labels: {app: llama}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          args: ["Qwen/Qwen3-8B", "--enforce-eager"]
          startupProbe: {httpGet: {path: /health, port: 8000}, periodSeconds: 15, failureThreshold: 60}
          resources:
            limits: {nvidia.com/gpu: 1, memory: 48Gi}
          volumeMounts: [{name: dshm, mountPath: /dev/shm}]
      volumes:
        - {name: dshm, emptyDir: {medium: Memory, sizeLimit: 16Gi}}
"""
KEDA = """apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llama-so, namespace: serving}
spec:
  scaleTargetRef: {name: llama}
"""


def write(tmp_path, **files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_budget_reports_levers_facts_and_findings_per_workload():
    results = Linter(Settings()).lint_sources([SourceText("d.yaml", DEPLOY), SourceText("k.yaml", KEDA)])
    [item] = budgets(results)
    assert item.title == "Deployment/serving/llama" and item.container == "vllm"
    assert "ScaledObject llama-so" in item.scale_to_zero
    levers = {r.lever: r for r in item.levers}
    assert [r.lever for r in item.levers][:4] == [Lever.WEIGHTS, Lever.IMAGE, Lever.NODE, Lever.RUNTIME]
    node = levers[Lever.NODE]
    assert any(f.code == "CS301" for f in node.findings) and not node.addressed
    assert "requests 1 nvidia.com/gpu per pod; warm buffer: none in the set" in node.facts
    runtime = levers[Lever.RUNTIME].facts
    assert "startupProbe budget 900s" in runtime  # 60 × 15 from the manifest, no invented number
    assert "/dev/shm 16Gi (Memory-backed)" in runtime and "memory limit 48Gi" in runtime
    assert any("--enforce-eager" in f for f in runtime)
    assert "node-0-to-1" in item.unaddressed
    assert all(f.lever == r.lever for r in item.levers for f in r.findings)


RUNTIME_WITH_SHM = """apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata: {name: vllm, namespace: ml}
spec:
  supportedModelFormats: [{name: huggingface}]
  containers:
    - name: kserve-container
      image: kserve/huggingfaceserver:v0.15.0
      volumeMounts: [{name: devshm, mountPath: /dev/shm}]
  volumes:
    - {name: devshm, emptyDir: {medium: Memory, sizeLimit: 32Gi}}
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: llm, namespace: ml}
spec:
  predictor:
    model:
      runtime: vllm
      modelFormat: {name: huggingface}
      args: [--model_id=Qwen/Qwen3-8B]
      resources: {limits: {nvidia.com/gpu: 1, memory: 48Gi}}
"""


def test_a_predictors_dev_shm_is_its_runtimes_when_it_mounts_none():
    """KServe merges the runtime's serving container into the predictor's `model`: the report
    states the /dev/shm the pod will have, and where it comes from, as CS406 counts it."""
    results = Linter(Settings()).lint_sources([SourceText("isvc.yaml", RUNTIME_WITH_SHM)])
    facts = {b.title: {r.lever: r.facts for r in b.levers} for b in budgets(results)}
    assert ("/dev/shm 32Gi (Memory-backed, from ServingRuntime vllm's volume 'devshm')"
            in facts["InferenceService/ml/llm"][Lever.RUNTIME])


def test_cli_text_json_and_markdown(tmp_path):
    write(tmp_path, **{"d.yaml": DEPLOY, "k.yaml": KEDA})
    runner = CliRunner()
    text = runner.invoke(main, ["explain-cold-start", str(tmp_path)])
    assert text.exit_code == 0, text.output
    for title in ("Weight load", "Image pull", "Node 0→1", "Runtime", "unaddressed levers:"):
        assert title in text.output
    assert "CS301" in text.output
    data = json.loads(runner.invoke(main, ["explain-cold-start", str(tmp_path), "--output-format", "json"]).output)
    assert data[0]["workload"] == "Deployment/serving/llama"
    assert [lv["lever"] for lv in data[0]["levers"]][:4] == ["weight-load", "image-pull", "node-0-to-1", "runtime"]
    md = runner.invoke(main, ["explain-cold-start", str(tmp_path), "--output-format", "markdown"]).output
    assert md.startswith("## Cold-start budget") and "| Lever | Status |" in md and "**unaddressed**" in md


def test_warm_buffer_and_scale_facts_change_with_the_set(tmp_path):
    buffer = """apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: overprovisioning}
value: -10
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: gpu-balloon}
spec:
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b}}
    spec:
      priorityClassName: overprovisioning
      containers: [{name: pause, image: registry.k8s.io/pause:3.10, resources: {limits: {nvidia.com/gpu: 1}}}]
"""
    results = Linter(Settings()).lint_sources([SourceText("d.yaml", DEPLOY), SourceText("k.yaml", KEDA),
                                               SourceText("b.yaml", buffer)])
    [item] = budgets(results)
    node = next(r for r in item.levers if r.lever == Lever.NODE)
    assert node.addressed and "warm buffer: gpu-balloon" in node.facts[0]
    alone = budgets(Linter(Settings()).lint_sources([SourceText("d.yaml", DEPLOY)]))[0]
    assert alone.scale_to_zero is None


def test_markdown_section_for_reports():
    results = Linter(Settings()).lint_sources([SourceText("d.yaml", DEPLOY)])
    section = markdown_section(results)
    assert section.startswith("## Cold-start budget") and "`Deployment/serving/llama`" in section


def test_no_engine_and_bad_paths(tmp_path):
    write(tmp_path, **{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    runner = CliRunner()
    out = runner.invoke(main, ["explain-cold-start", str(tmp_path)])
    assert out.exit_code == 0 and "No engine workloads found." in out.output
    bad = runner.invoke(main, ["explain-cold-start", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output and "missing.yaml" in bad.output
    broken = write(tmp_path, **{"broken.yaml": "a: [1,\n"})
    assert runner.invoke(main, ["explain-cold-start", str(broken)]).exit_code == 1  # not explained: named


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vllm-deployment.yaml"


@pytest.mark.parametrize("missing_first", [True, False], ids=["missing first", "missing last"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_unreadable_path_is_reported_and_the_others_are_still_explained(tmp_path, missing_first, fmt):
    """The first path that could not be read ended the run: nothing was explained. As `cslint check`
    does, each unreadable path is one error line, the readable ones are explained, and the exit is 2."""
    missing = str(tmp_path / "missing.yaml")
    paths = [missing, str(EXAMPLE)] if missing_first else [str(EXAMPLE), missing]
    result = CliRunner().invoke(main, ["explain-cold-start", "--isolated", "--output-format", fmt, *paths])
    assert result.exit_code == 2
    assert result.stderr == f"cslint: error: {missing}: no such file or directory\n"
    alone = CliRunner().invoke(main, ["explain-cold-start", "--isolated", "--output-format", fmt, str(EXAMPLE)])
    assert alone.exit_code == 0 and result.stdout == alone.stdout
    assert "Deployment/llm/qwen3-8b" in result.stdout and "missing.yaml" not in result.stdout


def test_a_file_that_does_not_parse_is_named_and_exits_1(tmp_path):
    """It printed "No engine workloads found." and exited 0, as if the file had been explained."""
    from click.testing import CliRunner

    from cslint.cli import main
    (tmp_path / "bad.yaml").write_text("a: [\n")
    result = CliRunner().invoke(main, ["explain-cold-start", "--isolated", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 1
    assert "bad.yaml:2:1: CS000" in result.stderr and "(not explained)" in result.stderr


class _CountedFindings(list):
    reads = 0

    def __iter__(self):
        _CountedFindings.reads += 1
        return super().__iter__()


def test_findings_are_read_once_however_many_workloads():
    """Each engine container scanned every finding of the run: 2,500 workloads in one file took
    16 s (1,250: 4.8 s); the findings are now grouped by object once."""
    many = "---\n".join(DEPLOY.replace("name: llama,", f"name: llama-{i},") for i in range(20))
    results = Linter(Settings()).lint_sources([SourceText("d.yaml", many), SourceText("k.yaml", KEDA)])
    for r in results:
        r.findings = _CountedFindings(r.findings)
    _CountedFindings.reads = 0
    items = budgets(results)
    assert len(items) == 20 and _CountedFindings.reads == len(results)
    assert all(any(f.code == "CS201" for f in r.findings) for i in items for r in i.levers if r.lever == Lever.IMAGE)


def test_a_container_reads_only_its_own_and_its_objects_findings(monkeypatch):
    """Each container of a pod filtered all the pod's findings by name: one pod of 5,000 engine
    containers took 49 s. Findings are grouped by container too, in the run's order."""
    from cslint.workloads import Container
    containers = "".join(f"  - {{name: c{i}, image: 'vllm/vllm-openai:latest', args: [m/m, --gpu-memory-utilization, '0.95'],"
                         f" resources: {{limits: {{nvidia.com/gpu: 1}}}}}}\n" for i in range(30))
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n{containers}"
    results = Linter(Settings()).lint_sources([SourceText("p.yaml", text)])
    names = []
    name = Container.name
    monkeypatch.setattr(Container, "name", property(lambda c: names.append(1) or name.fget(c)))
    items = budgets(results)
    assert [i.container for i in items] == [f"c{i}" for i in range(30)]
    for item in items:
        found = [f for r in item.levers for f in r.findings]
        assert {f.container for f in found} == {item.container}
        assert [f.code for f in found if f.lever == Lever.RUNTIME][:1] == ["CS401"]
    mine = [f for f in results[0].findings if f.container == "c7"]
    assert [f for r in items[7].levers for f in r.findings] == [f for lv in LEVERS for f in mine if f.lever == lv]
    assert len(names) <= 10 * 30


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")
def test_a_kustomization_directory_is_rendered_as_check_renders_it(tmp_path):
    """`cslint check overlay/` renders a kustomization; explain-cold-start read the directory's
    YAML files instead, found no workload in kustomization.yaml and said "No engine workloads
    found." with exit 0 — and a kustomization that does not build passed the same way."""
    for name in ("base", "prod", "broken"):
        (tmp_path / name).mkdir()
    write(tmp_path / "base", **{"d.yaml": DEPLOY, "kustomization.yaml": "resources: [d.yaml]\n"})
    overlay = write(tmp_path / "prod", **{"kustomization.yaml": "resources: [../base]\nnamePrefix: prod-\n"})
    out = CliRunner().invoke(main, ["explain-cold-start", "--isolated", "--output-format", "json", str(overlay)])
    assert out.exit_code == 0, out.output
    assert [item["workload"] for item in json.loads(out.stdout)] == ["Deployment/serving/prod-llama"]
    write(tmp_path / "broken", **{"kustomization.yaml": "resources: [missing.yaml]\n"})
    bad = CliRunner().invoke(main, ["explain-cold-start", "--isolated", str(tmp_path / "broken")])
    assert bad.exit_code == 2 and "kubectl kustomize failed" in bad.output
