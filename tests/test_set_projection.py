"""Set rules see only the objects they read (`RuleMeta.reads`): the engine keeps those documents
for the set pass and drops the rest at once, and the findings are the same as when every object
is kept."""
from pathlib import Path

import pytest

from cslint.engine import Linter
from cslint.model import Scope
from cslint.registry import builtin_rules
from cslint.settings import Settings
from cslint.sources import SourceText, read_source
from corpus_paths import CORPUS

ROOT = Path(__file__).resolve().parent.parent

MIXED = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {A: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: web, image: nginx:1.27}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  replicas: 0
  template:
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.12.3
          args: ["--model", "m"]
          resources: {limits: {nvidia.com/gpu: 1}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: vllm}
spec: {ports: [{port: 8000}]}
"""


def test_every_builtin_set_rule_declares_what_it_reads():
    """Without `reads`, a rule over workload kinds would keep every Deployment of a large tree."""
    missing = [r.code for r in builtin_rules() if r.meta.scope == Scope.SET and r.meta.reads is None]
    assert missing == []


def test_only_documents_set_rules_read_keep_their_data():
    """A plain lint finishes the file at once; only the documents set rules read wait for the set
    pass, and set findings join the finished file afterwards."""
    linter = Linter(Settings(), keep_text=False, spill=True)
    result = linter.lint_streamed(SourceText("mixed.yaml", MIXED))
    assert result.finished and result.documents == [] and result.source.text is None
    kept = [obj.document.data["metadata"]["name"] for obj in result.set_objects]
    assert kept == ["llm", "vllm"]  # the engine workload (CS301, CS504) and the Service named vllm (CS504)
    assert [obj.document.index for obj in result.set_objects] == [2, 4]
    assert result.for_set == (2, 4)
    assert "CS301" not in {f.code for f in result.findings}
    linter.complete([result])
    assert {f.code for f in result.findings} >= {"CS301", "CS504"}
    assert all(f.position is not None for f in result.findings)
    assert [f.sort_key() for f in result.findings] == sorted(f.sort_key() for f in result.findings)
    assert not result.set_objects and result.set_parked is None  # nothing outlives the set pass


SUPPRESSED_BESIDE_SET_OBJECT = MIXED.replace(
    "metadata: {name: web}\nspec:\n  template:",
    "metadata: {name: web, annotations: {cslint.io/ignore: CS201}}\nspec:\n  template:")


@pytest.mark.parametrize("spill", [False, True])
def test_a_file_with_directives_waits_whole_for_the_set_pass(spill):
    """Filters run once, over a file's own and set findings: a file they act on keeps every
    document until then. (The annotation on a document no set rule reads used to be lost when
    the file also held an object a set rule reads: its data was dropped before the filter.)"""
    assert "CS201" in SUPPRESSED_BESIDE_SET_OBJECT and "cslint.io/ignore" in SUPPRESSED_BESIDE_SET_OBJECT
    linter = Linter(Settings(), keep_text=False, spill=spill)
    result = linter.lint_streamed(SourceText("mixed.yaml", SUPPRESSED_BESIDE_SET_OBJECT))
    assert not result.finished and all(doc.data is not None for doc in result.documents)
    linter.complete([result])
    web = [f for f in result.findings if f.object is not None and f.object.name == "web" and f.code == "CS201"]
    assert len(web) == 1 and web[0].suppressed
    assert "CS900" not in {f.code for f in result.findings}  # the directive was used
    assert {f.code for f in result.findings} >= {"CS301", "CS504"}


def test_no_set_rule_active_keeps_nothing():
    [result] = Linter(Settings(select=("CS1",))).lint_sources([SourceText("mixed.yaml", MIXED)])
    assert all(doc.data is None for doc in result.documents) and not result.for_set


def _files() -> list[Path]:
    found = sorted(p for p in (ROOT / "fixtures").rglob("*") if p.suffix in (".yaml", ".yml"))
    if CORPUS.is_dir():
        found += sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml"))
    return found


@pytest.mark.parametrize("profile", [None, "gke"])
def test_set_findings_match_keeping_every_object(profile):
    """The projection may only drop objects that cannot change a set rule's outcome: lint every
    fixture (and the corpus) as one run, once as shipped and once keeping every object."""
    settings = Settings(profile=profile, select=("CS2", "CS3", "CS5")) if profile else Settings()
    sources = [read_source(str(p)) for p in _files()]

    def findings(linter: Linter) -> list[tuple]:
        results = linter.lint_sources(sources)
        return [(f.file, f.document, f.code, f.path, f.message, f.position) for r in results for f in r.findings]

    everything = Linter(settings)
    everything._reads = lambda obj: True  # the former behaviour: every object reaches the set pass
    expected = findings(everything)
    assert any(code in {"CS301", "CS302", "CS303", "CS504", "CS205"} for _, _, code, *_ in expected)
    assert findings(Linter(settings)) == expected
