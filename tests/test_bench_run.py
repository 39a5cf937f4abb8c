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
