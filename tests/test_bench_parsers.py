"""bench/parsers.py runs end to end on a tiny corpus, and cslint's document reader yields exactly
the data `yaml.load_all(CSafeLoader)` yields (the parity the parser benchmark relies on)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "parsers.py"


def test_parser_table_has_reference_rows_and_cslint_parity() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "50", "--repeat", "1"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"^yaml\.load_all \(CSafeLoader\)\s+50\s.*\s1\.00\s+1\.00\s+reference$", out, re.MULTILINE), out
    row = re.search(r"^cslint parse_documents\s+50\s.*\s(\d+) of 50 differ$", out, re.MULTILINE)
    assert row, out
    assert row.group(1) == "0", row.group(0)
    assert re.search(r"^cslint parse_documents\s+same$", out, re.MULTILINE), out  # the YAML 1.1 probe
    for name in ("rapidyaml walk to dicts (YAML 1.1)", "rapidyaml emit_json + json.loads"):
        assert re.search(rf"^{re.escape(name)}\s+(not installed|50\s.* differ$)", out, re.MULTILINE), out
    assert "Traceback" not in done.stderr


def test_bad_sizes_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "ten"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2
    assert "--sizes wants comma-separated integers" in done.stderr
    assert "Traceback" not in done.stderr
