"""The fixer's re-lint within a run: each fixed file is linted again against every other file's
set objects. These pin what makes that O(files) instead of O(files²) without changing a finding:
`ObjectSet.subjects`, `ObjectSet.matching` (a per-file memo), no set pass for a file holding no
set object, and the fixer's last lint reused as the file's result."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings, strategies as st
from fuzzing import examples

from cslint import objectset
from cslint.cli import main
from cslint.engine import Linter
from cslint.fixer import fix_text
from cslint.model import Applicability
from cslint.settings import Settings
from cslint.sources import SourceText
from cslint.workloads import K8sObject

ENGINE = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: ml}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:v0.13.5
        args: ["--model", "meta-llama/Llama-3.1-8B-Instruct"]
        resources: {{limits: {{nvidia.com/gpu: 1}}}}
"""
BUFFER = """apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: warm}
value: 5
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: buffer, namespace: ml}
spec:
  replicas: 1
  selector: {matchLabels: {app: buffer}}
  template:
    metadata: {labels: {app: buffer}}
    spec:
      priorityClassName: warm
      containers:
      - name: pause
        image: registry.k8s.io/pause:3.9
        resources: {limits: {nvidia.com/gpu: 1}}
"""
VLLM_SERVICE = """apiVersion: v1
kind: Service
metadata: {name: vllm, namespace: ml}
spec: {selector: {app: a}, ports: [{port: 8000}]}
"""


def _service(name: str) -> K8sObject:
    return K8sObject({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}}, "")


def test_subjects_are_the_reported_files_objects_and_matching_remembers_each_file():
    loads = {"a": 0, "b": 0}

    def objects(name, *objs):
        def load():  # a parked file: a fresh copy on every load
            loads[name] += 1
            return [K8sObject(dict(o.data), "") for o in objs]
        return load

    memo_a, memo_b = {}, {}
    members = [(objects("a", _service("vllm"), _service("web")), "owner-a", frozenset({"Service"}), memo_a),
               (objects("b", _service("vllm")), None, frozenset({"Service"}), memo_b)]
    objset = objectset.ObjectSet(members)
    assert [o.name for o in objset.subjects] == ["vllm", "web"]
    found = list(objset.matching("vllm", lambda o: o.name == "vllm", ("Service",)))
    assert [(o.name, o.set_owner) for o in found] == [("vllm", "owner-a"), ("vllm", None)]
    assert [objset.is_subject(o) for o in found] == [True, False]
    before = dict(loads)
    # a later pass (the next re-lint), with the owners swapped: no file is loaded again, and the
    # remembered objects carry this pass's owners
    again = objectset.ObjectSet([(members[0][0], None, members[0][2], memo_a),
                                 (members[1][0], "owner-b", members[1][2], memo_b)])
    found = list(again.matching("vllm", lambda o: o.name == "vllm", ("Service",)))
    assert loads == before
    assert [o.set_owner for o in found] == [None, "owner-b"]
    # a file known to hold none of the kinds is skipped without loading or remembering
    assert list(again.matching("classes", lambda o: True, ("PriorityClass",))) == []
    assert loads == before and "classes" not in memo_a


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _linted(tmp_path: Path, settings: Settings) -> Linter:
    linter = Linter(settings, keep_text=True)
    linter.lint_sources([SourceText(str(p), p.read_text()) for p in sorted(tmp_path.glob("*.yaml"))])
    return linter


def test_a_relint_reports_the_same_set_findings_as_the_run(tmp_path):
    """Each file re-linted alone within the run gets exactly the set findings the whole run gave
    it: engines judged as subjects (CS301, CS504), a buffer judged against every engine (CS302)."""
    tree = _tree(tmp_path, {"a.yaml": ENGINE.format(name="a"), "b.yaml": ENGINE.format(name="b"),
                            "buffer.yaml": BUFFER, "svc.yaml": VLLM_SERVICE})
    settings = Settings(select=("CS301", "CS302", "CS504"))
    linter = Linter(settings, keep_text=True)
    sources = [SourceText(str(p), p.read_text()) for p in sorted(tree.glob("*.yaml"))]
    whole = {r.source.path: sorted((f.code, f.message) for f in r.findings) for r in linter.lint_sources(sources)}
    # the buffer's class is positive: it holds no node (CS301 on each engine) and is judged (CS302)
    assert {c for found in whole.values() for c, _ in found} == {"CS301", "CS302", "CS504"}
    for src in sources:
        again = linter.lint_in_run(SourceText(src.path, src.text))
        assert sorted((f.code, f.message) for f in again.findings) == whole[src.path], src.path


def test_a_file_without_set_objects_runs_no_set_pass(tmp_path, monkeypatch):
    tree = _tree(tmp_path, {"a.yaml": ENGINE.format(name="a"), "svc.yaml": VLLM_SERVICE,
                            "plain.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"})
    linter = _linted(tree, Settings(select=("CS504",)))
    passes = []
    real = Linter.lint_set
    monkeypatch.setattr(Linter, "lint_set", lambda self, *a, **k: passes.append(1) or real(self, *a, **k))
    plain = str(tree / "plain.yaml")
    assert linter.lint_in_run(SourceText(plain, (tree / "plain.yaml").read_text())).findings == []
    assert passes == []
    engine = str(tree / "a.yaml")
    found = linter.lint_in_run(SourceText(engine, (tree / "a.yaml").read_text())).findings
    assert passes == [1] and [f.code for f in found] == ["CS504"]


def test_the_fixers_last_lint_is_the_lint_of_its_text(tmp_path):
    tree = _tree(tmp_path, {"a.yaml": ENGINE.format(name="a"), "svc.yaml": VLLM_SERVICE})
    linter = _linted(tree, Settings(select=("CS504", "CS402")))
    path = str(tree / "a.yaml")
    outcome = fix_text(path, (tree / "a.yaml").read_text(), linter, Applicability.UNSAFE)
    assert outcome.changed and outcome.result is not None
    fresh = linter.lint_in_run(SourceText(path, outcome.text))
    key = lambda fs: sorted((f.code, f.message, f.position) for f in fs)  # noqa: E731
    assert key(outcome.result.findings) == key(fresh.findings)
    assert "enableServiceLinks: false" in outcome.text


def test_fix_of_a_tree_ends_with_the_findings_of_a_fresh_lint(tmp_path):
    """What `--fix` reports after fixing (the fixer's last lint of each file) is what a plain lint
    of the fixed tree reports."""
    tree = _tree(tmp_path, {"a.yaml": ENGINE.format(name="a"), "b.yaml": ENGINE.format(name="b"),
                            "buffer.yaml": BUFFER, "svc.yaml": VLLM_SERVICE})
    fresh_copy = tmp_path.parent / (tmp_path.name + "-again")
    runner = CliRunner()
    args = ["--isolated", "--output-format", "json", "--exit-zero", "--unsafe-fixes"]
    fixed = runner.invoke(main, [*args, "--fix", str(tree)])
    assert fixed.exit_code == 0, fixed.output
    shutil.copytree(tree, fresh_copy)
    plain = runner.invoke(main, [*args, str(fresh_copy)])
    assert fixed.output.replace(str(tree), "T") == plain.output.replace(str(fresh_copy), "T")


def test_a_fixed_files_final_result_keeps_no_node_tree(tmp_path):
    """A fix run holds every file's final result until the report: a file holding set objects
    keeps their data (later re-lints read it), not its node trees; any other keeps only findings."""
    tree = _tree(tmp_path, {"a.yaml": ENGINE.format(name="a"), "svc.yaml": VLLM_SERVICE,
                            "plain.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"})
    linter = _linted(tree, Settings(select=("CS504", "CS402")))
    held = linter.lint_in_run(SourceText(str(tree / "a.yaml"), (tree / "a.yaml").read_text()))
    plain = linter.lint_in_run(SourceText(str(tree / "plain.yaml"), (tree / "plain.yaml").read_text()))
    assert held.for_set and any(d._root is not None for d in held.documents)
    linter.lighten(held)
    linter.lighten(plain)
    assert held.documents and all(d._root is None and d.data is not None for d in held.documents)
    assert plain.documents == [] and plain.source.text is not None
    assert sorted(f.code for f in held.findings) == ["CS402", "CS504"] and all(f.position for f in held.findings)
    # the set pass of a later re-lint still reads the lightened file's objects
    assert linter._set_results[str(tree / "a.yaml")] is held
    assert [o.name for o in linter._objects_of(held)] == ["a"]


class _CountedOp(dict):
    compared = 0

    def __eq__(self, other):
        _CountedOp.compared += 1
        return super().__eq__(other)

    __hash__ = None


def test_choosing_the_fixes_of_one_document_compares_each_operation_with_its_path_only():
    """Each fix's operations were compared with every operation chosen before, and its paths with
    every claimed path: one pod of 5,000 containers took 41 s to fix (1,250: 3.5 s)."""
    from cslint.fixer import plan_operations, select_fixes
    from cslint.model import Applicability, Finding, Fix, Severity
    volume = {"op": "add", "path": "/spec/volumes", "value": [{"name": "dshm"}]}

    def finding(n: int) -> Finding:
        ops = (_CountedOp(volume), _CountedOp(op="add", path=f"/spec/containers/{n}/env/-", value={"name": "A"}),
               _CountedOp(op="replace", path=f"/spec/containers/{n}/image", value="x"))
        return Finding("CS401", "shm", Severity.ERROR, "m", "f", 0, f"/spec/containers/{n}", fix=Fix(Applicability.SAFE, ops, "t"))
    findings = [finding(n) for n in range(300)]
    blocked = Finding("CS401", "shm", Severity.ERROR, "m", "f", 0, "/spec/containers/7",
                      fix=Fix(Applicability.SAFE, ({"op": "add", "path": "/spec/containers/7/env", "value": []},), "t"))
    _CountedOp.compared = 0
    chosen = select_fixes(findings + [blocked], Applicability.SAFE)[0]
    ops = plan_operations(chosen)
    assert chosen == findings and len(ops) == 1 + 2 * 300  # the volume once; the env list is claimed
    assert _CountedOp.compared <= 4 * 300


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.sets(st.lists(st.sampled_from("ab"), max_size=3).map(tuple), max_size=3), max_size=6))
def test_claimed_paths_conflict_as_pairwise_prefixes_do(batches):
    from cslint.fixer import ClaimedPaths
    claims, claimed = ClaimedPaths(), set()
    for paths in batches:
        expected = any(x[:len(y)] == y or y[:len(x)] == x for x in paths for y in claimed)
        assert claims.conflicts(paths) == expected
        if not expected:
            claims.claim(paths)
            claimed |= paths
