"""bench/run.py's own parts: the rows it prints must carry real measurements."""
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
try:
    import run as bench_run  # noqa: E402
finally:
    sys.path.pop(0)


def test_instruction_counts_come_from_callgrind_or_say_why_not(tmp_path, monkeypatch):
    """With valgrind (this project's dev machines): two real counts and their ratio, cslint's run
    executing more than its start-up alone. Without it: a row that says the figure was skipped."""
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    if shutil.which("valgrind"):
        label, value = bench_run.instruction_row(tmp_path, "1 doc")
        assert label == "1 doc: instructions, parse / cslint -j1"
        parse, lint = (float(part.split()[0]) for part in value.split("=")[0].split("/"))
        ratio = float(value.split("=")[1].split("×")[0])
        assert 0.05 < parse < lint and abs(lint / parse - ratio) < 0.05 * ratio  # the counts print rounded
    monkeypatch.setattr(bench_run.shutil, "which", lambda name: None)
    assert bench_run.instruction_row(tmp_path, "1 doc") == ("1 doc: instructions", "valgrind not installed: skipped")


def test_bytecode_is_compiled_before_timing(tmp_path, monkeypatch):
    rows = bench_run.Rows()
    calls = []
    import compileall
    monkeypatch.setattr(compileall, "compile_dir", lambda folder, quiet: calls.append(folder) or True)
    bench_run.compile_bytecode(rows)
    import cslint
    import cslint.rules
    assert set(calls) == {*cslint.__path__, *cslint.rules.__path__}
    assert rows == [("cslint bytecode", "compiled (2 folders)")]


def test_a_tuple_of_commands_runs_at_once(tmp_path):
    """The two-cores row times two processes together: each writes when it started and ended,
    and the intervals overlap (run one after the other, they could not)."""
    script = ("import sys, time; start = time.time(); time.sleep(0.3); "
              "open(sys.argv[1], 'w').write(f'{start} {time.time()}')")
    a, b = tmp_path / "a", tmp_path / "b"
    (timing,) = bench_run.rounds([([sys.executable, "-c", script, str(a)], [sys.executable, "-c", script, str(b)])], 1)
    (a0, a1), (b0, b1) = (map(float, p.read_text().split()) for p in (a, b))
    assert a0 < b1 and b0 < a1  # overlapping
    assert timing.wall >= 0.3 and timing.cpu >= 0


def test_two_cores_row_reports_a_ratio_per_process(tmp_path):
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    label, value = bench_run.two_cores_row(tmp_path, "1 doc", 1)
    assert label == "1 doc: two parses at once / one"
    wall, cpu = (float(part.split("×")[0]) for part in value.split(":")[0].split(","))
    assert wall > 0 and cpu > 0
    at_most = float(value.split("do at most ")[1].split("×")[0])
    assert abs(at_most - 2 / cpu) <= 0.02 * at_most  # 2 / (CPU each / CPU alone); the CPU prints rounded
