"""Findings of finished files, and the documents set rules read, wait on disk once a run has many
(flat memory); every report reads them back unchanged: each output format is byte-identical to
a run that holds everything in memory."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from cslint import objectset, results, runner, spool
from cslint.cli import main
from cslint.engine import Linter
from cslint.model import Finding, Severity
from refused_writes import run_limited

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ["text", "json", "sarif", "github", "junit"]


def _finding(code: str, severity: Severity, suppressed: bool = False) -> Finding:
    return Finding(code=code, name="n", severity=severity, message="m", file="f.yaml", document=0,
                   path="/spec", suppressed=suppressed, extra={"line": "spec:"})


def test_findings_stay_in_memory_until_the_budget_is_used_then_go_to_disk():
    store = spool.Spool(in_memory=3)
    first = [_finding("CS201", Severity.ERROR), _finding("CS202", Severity.WARNING)]
    assert store.store(first) is first  # under the budget: the list itself
    second = [_finding("CS401", Severity.WARNING), _finding("CS402", Severity.ERROR, suppressed=True)]
    held = store.store(second)
    assert isinstance(held, spool.Spooled) and len(held) == 2
    assert list(held) == second and list(held) == second  # read back each time, equal each time
    assert held[1].suppressed and held[0].extra == {"line": "spec:"}
    assert (spool.shown_count(held), spool.worst_severity(held)) == (1, Severity.WARNING)
    assert (spool.shown_count(first), spool.worst_severity(first)) == (2, Severity.ERROR)
    assert spool.worst_severity(store.store([_finding("CS1", Severity.INFO, suppressed=True)])) is None


def test_a_finding_with_every_field_set_reads_back_equal_with_its_enums():
    """Findings pickle as plain values (workers send them, long runs spool them): what comes back
    is equal field for field, enums are enums again, and findings of one object share its ref."""
    import pickle

    from cslint.model import Applicability, Fix, Lever, ObjectRef, Position
    ref = ObjectRef("apps/v1", "Deployment", "ns", "app")
    fix = Fix(Applicability.UNSAFE, ({"op": "add", "path": "/a", "value": {"b": [1]}},), "add a",
              comment_edits=((1, 2, "x"),), new_documents=({"kind": "PriorityClass"},))
    full = Finding(code="CS401", name="shm", severity=Severity.WARNING, message="m", file="f.yaml",
                   document=3, path="/spec/x", object=ref, container="c", fix=fix,
                   position=Position(1, 2, 3, 4), source="chart/templates/a.yaml", span=(5, 9), key=True,
                   lever=Lever.RUNTIME, suppressed=True, extra={"secrets": ("s3cr3t-value",), "line": "x:"})
    bare = Finding(code="CS000", name="invalid-yaml", severity=Severity.ERROR, message="m", file="f.yaml",
                   document=0, path="")
    back = pickle.loads(pickle.dumps([full, bare, full], protocol=pickle.HIGHEST_PROTOCOL))
    assert back == [full, bare, full]
    assert type(back[0].severity) is Severity and type(back[0].lever) is Lever
    assert type(back[0].fix.applicability) is Applicability and back[1].fix is None and back[1].position is None
    assert back[0].object is back[2].object  # one ref per object, as before pickling


def test_empty_lists_never_touch_the_disk():
    store = spool.Spool(in_memory=0)
    assert store.store([]) == []
    assert store._file is None


class _HoldEverything(Linter):
    """The engine as the fixer uses it: every file's text kept, nothing spilled."""

    def __init__(self, *args, **kwargs):
        kwargs.update(spill=False, keep_text=True)
        super().__init__(*args, **kwargs)


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("on_disk", ["findings", "records"])
def test_every_report_is_the_same_from_disk(fmt, jobs, on_disk, monkeypatch):
    """fixtures/ (≈ 160 files, thousands of findings, set findings, suppressions) with a budget of
    one finding (each file's findings read back from the spool) or of one file (each done file's
    whole record read back)."""
    args = ["--output-format", fmt, "-j", jobs, str(ROOT / "fixtures")]
    if fmt == "text":
        args[:0] = ["--show-source"]
    if on_disk == "findings":
        monkeypatch.setattr(spool, "IN_MEMORY", 1)
    else:
        monkeypatch.setattr(results, "IN_MEMORY_FILES", 1)
    monkeypatch.setattr(objectset, "IN_MEMORY_CHARS", 0)  # every set-read document parked too
    stored, parked, records = [], [], []
    real_store, real_park, real_write = spool.Spool.store, spool.Spool.park, results.RunResults._write
    monkeypatch.setattr(spool.Spool, "store", lambda self, fs: stored.append(r := real_store(self, fs)) or r)
    monkeypatch.setattr(spool.Spool, "park", lambda self, v: parked.append(r := real_park(self, v)) or r)
    monkeypatch.setattr(results.RunResults, "_write", lambda *a: records.append(r := real_write(*a)) or r)
    spilled = _run(args)
    if on_disk == "findings":
        assert sum(isinstance(s, spool.Spooled) for s in stored) > 100
    else:  # every done file but one; set files the set pass finished stay objects
        assert sum(records) > 100 and not any(isinstance(s, spool.Spooled) for s in stored)
    assert len(parked) > 20 and "CS301" in spilled[1] and "CS302" in spilled[1] and "CS504" in spilled[1]
    monkeypatch.setattr(runner, "Linter", _HoldEverything)
    held = _run(args)
    assert spilled == held
    assert spilled[0] == 1 and len(spilled[1]) > 100_000


def test_the_exit_code_reads_severities_counted_when_stored(monkeypatch, tmp_path):
    """Every finding on disk: the exit code still follows severities and `--fail-on`."""
    monkeypatch.setattr(spool, "IN_MEMORY", 0)
    manifest = str(ROOT / "fixtures" / "CS401" / "shm.yaml")  # three CS401 errors
    config = tmp_path / "cslint.yaml"
    config.write_text("severity:\n  CS401: warning\n")
    assert _run(["--select", "CS401", manifest])[0] == 1
    assert _run(["--config", str(config), "--select", "CS401", "--fail-on", "error", manifest])[0] == 0
    assert _run(["--config", str(config), "--select", "CS401", "--fail-on", "warning", manifest])[0] == 1


def test_an_object_set_is_a_stream_that_can_be_walked_again_and_names_each_owner():
    from cslint.workloads import K8sObject
    builds = []

    def rebuilt():  # like a parked file: new objects on every pass
        builds.append(1)
        return [K8sObject({"kind": "Service", "metadata": {"name": "vllm"}}, "")]

    kept = K8sObject({"kind": "PriorityClass", "metadata": {"name": "low"}}, "")
    objset = objectset.ObjectSet([(rebuilt, "owner-a", frozenset({"Service"}), {}),
                                  (lambda: [kept], None, None, {})])
    first, second = list(objset.objects), list(objset.objects)
    assert [o.kind for o in first] == [o.kind for o in second] == ["Service", "PriorityClass"]
    assert first[0] is not second[0] and first[1] is second[1] and len(builds) == 2
    assert [o.set_owner for o in second] == ["owner-a", None]
    assert [o.kind for o in objset.of_kind("PriorityClass")] == ["PriorityClass"]
    assert len(builds) == 2  # a file known to hold no PriorityClass is not loaded for that pass


def test_no_usable_temporary_directory_keeps_everything_in_memory(monkeypatch):
    """A full disk or an unwritable TMPDIR must not fail the run: the report is the same, and a
    warning says why memory was not bounded."""
    import tempfile

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    args = ["--output-format", "json", "-j", "2", str(ROOT / "fixtures")]
    expected = CliRunner().invoke(main, args)
    monkeypatch.setattr(spool, "IN_MEMORY", 0)
    monkeypatch.setattr(objectset, "IN_MEMORY_CHARS", 0)
    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stdout) == (expected.exit_code, expected.stdout)
    assert "cslint: warning: cannot use a temporary file (No space left on device)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("limit", [3_000, 40_000, 300_000])
def test_the_os_refusing_a_spool_write_midway_changes_no_report(jobs, limit):
    """The spool's file hits a real size limit (RLIMIT_FSIZE: the kernel refuses the write, in the
    middle of a record, as ENOSPC would): nothing written before is lost, that record and later
    ones stay in memory, and the report is the one a run without a limit gives."""
    args = ["--output-format", "json", "-j", jobs, str(ROOT / "fixtures")]
    expected, limited = run_limited(0, *args, spill=True), run_limited(limit, *args, spill=True)
    assert "Traceback" not in limited.stderr, limited.stderr[-2000:]
    assert (limited.returncode, limited.stdout) == (expected.returncode, expected.stdout)
    assert "cannot use a temporary file (File too large)" in limited.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("good_writes", [5, 60, 200])
def test_a_disk_that_fills_up_during_the_run_changes_no_report(jobs, good_writes, monkeypatch):
    """The spool's disk fails after some writes (parked objects, waiting files' records, findings
    already on disk): what was written is still read back, later files stay in memory, and the
    report is the one a run holding everything gives."""
    args = ["--output-format", "json", "-j", jobs, str(ROOT / "fixtures")]
    expected = CliRunner().invoke(main, args)
    monkeypatch.setattr(spool, "IN_MEMORY", 0)
    monkeypatch.setattr(results, "IN_MEMORY_FILES", 0)
    monkeypatch.setattr(objectset, "IN_MEMORY_CHARS", 0)
    real_write, writes = spool.Spool.write, []

    def filling(self, data):
        if len(writes) >= good_writes and self.error is None:
            self.error = "cannot use a temporary file (No space left on device): findings stay in memory"
        written = real_write(self, data)
        writes.append(written)
        return written

    monkeypatch.setattr(spool.Spool, "write", filling)
    result = CliRunner().invoke(main, args)
    assert sum(w is not None for w in writes) == good_writes and None in writes  # it did fill up
    assert (result.exit_code, result.stdout) == (expected.exit_code, expected.stdout)
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr


def test_the_nesting_limit_is_the_same_in_workers_and_survives_pickling(monkeypatch, tmp_path):
    """Set-read objects are pickled (worker → parent, parked on disk) and pickle recurses per
    level; the reader's explicit limit (`MAX_DEPTH`) keeps both possible, and gives the same answer
    whatever the call stack (it used to be RecursionError's, which a worker hit sooner, and a
    document the reader accepted could crash the pickling: exit 2). The Service named `vllm` is
    read by CS504."""
    from cslint.documents import MAX_DEPTH
    engine = (ROOT / "fixtures" / "CS401" / "shm.yaml").read_text()
    for i in range(70):  # enough files for worker processes
        (tmp_path / f"engine{i:02}.yaml").write_text(engine)
    monkeypatch.setattr(spool, "IN_MEMORY", 0)
    monkeypatch.setattr(objectset, "IN_MEMORY_CHARS", 0)
    for depth, parses in ((MAX_DEPTH, True), (MAX_DEPTH + 1, False)):
        (tmp_path / "service.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: vllm\nspec:\n"
                                               "  ports: [{port: 8000}]\nextra: " + "[" * depth + "]" * depth + "\n")
        for jobs in ("1", "2"):
            result = CliRunner().invoke(main, ["-j", jobs, "--select", "CS504,CS000", str(tmp_path)])
            assert result.exit_code == 1 and "Traceback" not in result.output, result.output
            assert ("CS504" in result.output) is parses and ("CS000" in result.output) is not parses
            if not parses:  # at the node that goes too deep, not at 1:1
                assert f"service.yaml:7:{8 + MAX_DEPTH}: CS000 [error] document nested too deeply" in result.output


def _result(name: str, findings: list, finished: bool = True):
    from cslint.engine import FileResult
    from cslint.sources import SourceText
    result = FileResult(SourceText(path=name, text=None), [], findings, finished=finished)
    return result


def test_done_files_past_the_budget_leave_the_heap_whole_and_come_back_in_order():
    """The ledger keeps numbers, not objects, for done files past its budget; a file the set pass
    still needs stays an object until `refile`; totals and the exit code never read a record."""
    ledger = results.RunResults(spool.Spool(in_memory=100), in_memory=1)
    first = _result("a.yaml", [_finding("CS201", Severity.ERROR)])
    waiting = _result("b.yaml", [_finding("CS401", Severity.WARNING)])
    waiting.set_objects = ["an object the set pass reads"]
    third = _result("c.yaml", [_finding("CS1", Severity.INFO), _finding("CS2", Severity.ERROR, suppressed=True)])
    for r in (first, waiting, third, _result("d.yaml", [])):
        ledger.append(r)
    assert [r.source.path for r in ledger.live()] == ["a.yaml", "b.yaml"]  # c, d written away
    assert list(ledger.counts()) == [(1, Severity.ERROR), (1, Severity.WARNING), (1, Severity.INFO), (0, None)]
    back = list(ledger)
    assert [r.source.path for r in back] == ["a.yaml", "b.yaml", "c.yaml", "d.yaml"]
    assert back[2].findings == third.findings and back[2] is not third and ledger[-1].findings == []
    waiting.set_objects = []  # the set pass is over: b is done too, and stays an object (the
    ledger.refile()  # report reads it next: writing it now would only be read back)
    assert [r.source.path for r in ledger.live()] == ["a.yaml", "b.yaml"] and ledger[1] is waiting
    assert list(ledger.counts())[1] == (1, Severity.WARNING)


def test_objects_a_spilling_run_lets_go_are_freed_by_refcounting_not_the_cyclic_collector(monkeypatch):
    """K8sObject ⇄ PodTemplate ⇄ Container are cycles: objects parked, loaded for a set-pass
    visit or dropped after the set pass used to wait for the cyclic collector, which a long run
    calls rarely, and their memory was garbage in the allocator's arenas meanwhile (fixtures/
    with every set object parked: 81,807 garbage objects; now 2,207, parse errors' node trees)."""
    import gc

    from cslint.cli import base_settings
    from cslint.sources import discover, pending_source
    monkeypatch.setattr(objectset, "IN_MEMORY_CHARS", 0)
    monkeypatch.setattr(spool, "IN_MEMORY", 0)
    monkeypatch.setattr(results, "IN_MEMORY_FILES", 0)
    sources = [pending_source(p, 10**8) for p in discover([str(ROOT / "fixtures")])]
    linter = Linter(base_settings({}), keep_text=False, spill=True)
    gc.collect()
    gc.disable()
    try:
        ran = linter.lint_sources(sources)
        garbage = gc.collect()
    finally:
        gc.enable()
    assert len(ran) > 150 and sum(n for n, _ in ran.counts()) > 1000
    assert garbage < 10_000
    assert linter._visiting == []  # not even the set pass's last visit outlives it


def test_objects_kept_for_the_set_pass_keep_what_rules_computed_on_them():
    """Only the objects a file lets go are disposed: those it keeps for the set pass (in memory,
    or pickled when parked) keep their pod templates and engine arguments, which set rules read
    again (rebuilding them cost 1.7 % more instructions on the 1k bench)."""
    from cslint.cli import base_settings
    from cslint.sources import pending_source
    linter = Linter(base_settings({}), keep_text=False, spill=True)
    result = linter.lint_streamed(pending_source(str(ROOT / "fixtures" / "CS401" / "shm.yaml"), 10**8))
    assert result.finished and result.set_objects
    for obj in result.set_objects:
        assert "templates" in obj.__dict__ and all("containers" in t.__dict__ for t in obj.__dict__["templates"])


def test_a_written_file_keeps_its_findings_handle_for_whoever_still_holds_it():
    """A record points at findings already spooled; the result object a caller may still hold
    (the set pass's list of files) keeps its handle, not the read-back list: holding those lists
    cost 50 MB on a 50k-document run. (A file the set pass changed is filed at once, past the
    budget to disk.)"""
    store = spool.Spool(in_memory=0)
    ledger = results.RunResults(store, in_memory=0)
    held = _result("a.yaml", [_finding("CS201", Severity.ERROR)])
    held.set_objects = ["waiting"]
    ledger.append(held)
    assert isinstance(held.findings, spool.Spooled)
    held.set_objects = []
    ledger.refile_one(0)
    assert isinstance(held.findings, spool.Spooled) and list(ledger.live()) == []
    assert ledger[0].findings == list(held.findings)


def test_a_file_waiting_with_parked_objects_waits_on_disk_and_the_set_pass_streams_it_in_order():
    """A finished file whose set objects are parked is not held as an object until the set pass
    (~1.5 KB a set file, 6,591 set files at 100k documents): its record is on disk, the ledger
    keeps where its objects are, and the set pass makes its member as it reaches it, in file order
    among the files held as objects. Only a file given set findings comes back, to join them."""
    from cslint.workloads import K8sObject
    store = spool.Spool(in_memory=0)
    ledger = results.RunResults(store, in_memory=10)
    loads = []

    def parked(name: str) -> spool.Parked:
        packed = spool.Packed([K8sObject({"kind": "Service", "metadata": {"name": name}}, "")], 1,
                              kinds=frozenset({"Service"}))
        return store.park(packed)

    live = _result("a.yaml", [])
    live.set_objects, live.for_set = [K8sObject({"kind": "Service", "metadata": {"name": "a"}}, "")], (0,)
    quiet, noisy = _result("b.yaml", []), _result("c.yaml", [_finding("CS401", Severity.WARNING)])
    quiet.for_set = noisy.for_set = (0,)
    quiet.set_parked, noisy.set_parked = parked("b"), parked("c")
    for r in (quiet, live, noisy, _result("d.yaml", [])):
        ledger.append(r)
    assert [r.source.path for r in ledger.live()] == ["a.yaml", "d.yaml"]  # b and c wait on disk

    def load(where: spool.Parked) -> list:
        loads.append(where.offset)
        return where.load()

    members = ledger.set_members(lambda r: (lambda: r.set_objects, r, frozenset({"Service"}), {}), load)
    objset = objectset.ObjectSet([], members)
    walked = [(o.name, o.set_owner) for o in objset.objects]
    assert walked == [("b", results.Waiting(0)), ("a", live), ("c", results.Waiting(2))]
    assert len(loads) == 2 and [o.name for o in objset.objects] == ["b", "a", "c"]  # streamed again
    # `matching` remembers a waiting file's finds (and that it found none) without loading it again
    loads.clear()
    assert [o.name for o in objset.matching("c", lambda o: o.name == "c")] == ["c"]
    assert [o.name for o in objset.matching("c", lambda o: o.name == "c")] == ["c"] and len(loads) == 2
    assert list(objset.matching("none", lambda o: False, ("PriorityClass",))) == [] and len(loads) == 2

    extra = _finding("CS301", Severity.ERROR)
    ledger.join(2, [extra], lambda result, found: result.findings.extend(found))
    ledger.end_waiting()
    assert [r.source.path for r in ledger] == ["b.yaml", "a.yaml", "c.yaml", "d.yaml"]
    assert ledger[0].findings == [] and [f.code for f in ledger[2].findings] == ["CS401", "CS301"]
    counts = list(ledger.counts())
    assert counts[0] == (0, None) and counts[2] == (2, Severity.ERROR)
    after = list(ledger.set_members(lambda r: (list, r, None, {}), load))
    assert [m[1] for m in after] == [live]  # the set pass is over: nothing waits any more


def test_a_ledger_without_a_usable_disk_keeps_every_file(monkeypatch):
    import tempfile

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    store = spool.Spool(in_memory=0)
    ledger = results.RunResults(store, in_memory=0)
    kept = [_result(f"{i}.yaml", [_finding("CS201", Severity.ERROR)]) for i in range(3)]
    for r in kept:
        ledger.append(r)
    assert list(ledger.live()) == kept and store.error and list(ledger.counts())[0] == (1, Severity.ERROR)


_HELD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: quiet
  annotations:
    cslint.io/ignore: "CS301, CS302 -- the buffer lives in another repository"
spec:
  replicas: 0
  selector: {matchLabels: {app: quiet}}
  template:
    metadata: {labels: {app: quiet}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          resources: {limits: {nvidia.com/gpu: 1}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: by-line
spec:
  replicas: 0
  selector: {matchLabels: {app: by-line}}
  template:
    metadata: {labels: {app: by-line}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          resources: {limits: {nvidia.com/gpu: 1}}  # cslint: ignore[CS301]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: loud
spec:
  replicas: 0
  selector: {matchLabels: {app: loud}}
  template:
    metadata: {labels: {app: loud}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          resources: {limits: {nvidia.com/gpu: 1}}
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_held_for_its_filters_past_the_budget_waits_on_disk_and_reports_the_same(jobs, monkeypatch, tmp_path):
    """A file whose directives must see its set findings is held whole until the set pass; past
    the set budget its documents, findings and objects are parked together and come back for
    its finish: set findings are still suppressed (by annotation and by line comment, matched by
    document index on the fresh copy), an unused code is still CS900, an unsuppressed one keeps
    its position."""
    (tmp_path / "held.yaml").write_text(_HELD)
    for i in range(70):  # enough files for worker processes at -j2
        (tmp_path / f"cm{i:02}.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n")
    args = ["-j", jobs, "--select", "CS301,CS302,CS900", "--output-format", "json", str(tmp_path)]
    in_memory = _run(args)
    monkeypatch.setattr(objectset, "IN_MEMORY_CHARS", 0)
    parked = []
    real_park = spool.Spool.park
    monkeypatch.setattr(spool.Spool, "park", lambda self, v: parked.append(v.kinds) or real_park(self, v))
    on_disk = _run(args)
    assert parked and frozenset({"Deployment"}) in parked
    assert on_disk == in_memory
    import json
    found = [(f["code"], f["line"], f["object"]["name"]) for f in json.loads(on_disk[1])["findings"]]
    assert ("CS301", 46, "loud") in found
    assert not any(code == "CS301" and name in ("quiet", "by-line") for code, _, name in found)
    assert [(code, name) for code, _, name in found if code == "CS900"] == [("CS900", "quiet")]  # CS302 unused
