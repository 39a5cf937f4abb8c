"""cslint benchmarks: one command, one table, every figure a ratio measured in the same run.

    python bench/run.py [--sizes 1000,10000,50000] [--checkov PATH] [--repeat 3] [--instructions-max 10000]

Every command runs as a fresh process (interpreter start-up included on both sides of a ratio);
each time is the best of `--repeat` runs, the commands of one ratio run in turns, as wall time
and as CPU time (user+sys of the child), because on a busy shared machine CPU time is the
steadier of the two.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus  # noqa: E402

PARSE_SCRIPT = """
import os, sys, yaml
for root, dirs, files in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(files):
        with open(os.path.join(root, name), encoding="utf-8") as fh:
            for _ in yaml.load_all(fh.read(), Loader=yaml.CSafeLoader):
                pass
"""
RSS_SCRIPT = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
SMALL = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  LOG_LEVEL: info
"""


@dataclass
class Timing:
    wall: float
    cpu: float

    def __truediv__(self, other: "Timing") -> str:
        return f"{self.wall / other.wall:5.2f}× wall, {self.cpu / other.cpu:5.2f}× cpu"

    def __str__(self) -> str:
        return f"{self.wall:7.2f} s wall {self.cpu:7.2f} s cpu"


def run(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> Timing:
    return rounds([cmd], repeat, env)[0]


def rounds(cmds: list[list[str] | tuple[list[str], ...]], repeat: int,
           env: dict[str, str] | None = None) -> list[Timing]:
    """The best of `repeat` runs of each command, run in turns (a, b, a, b, …) so that both sides
    of a ratio meet the same machine: a shared VM's speed drifts (up to 2× within minutes, measured
    here), and timing one command's repeats in a block, then the other's, put that drift into
    the ratio. A tuple of commands runs them at once: its CPU time is theirs together."""
    best: list[Timing | None] = [None] * len(cmds)
    for _ in range(repeat):
        for i, cmd in enumerate(cmds):
            before = os.times()
            start = time.perf_counter()
            together = cmd if isinstance(cmd, tuple) else (cmd,)
            procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                     for c in together]
            for proc in procs:
                proc.wait()
            wall = time.perf_counter() - start
            after = os.times()
            cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            if best[i] is None or wall < best[i].wall:  # type: ignore[union-attr]
                best[i] = Timing(wall, cpu)
    return [b for b in best if b is not None]


def peak_rss_mb(cmd: list[str]) -> float:
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, *cmd], capture_output=True, text=True).stdout
    return int(out.strip() or 0) / 1024


def compile_bytecode(rows: "Rows") -> None:
    """Write cslint's bytecode before timing, as `pip install` does. In an editable install under
    PYTHONDONTWRITEBYTECODE (this project's CI and dev shells), a module edited since its .pyc
    was written is compiled from source on every start: ~25 ms for four edited modules, measured,
    which the single-file figure would otherwise charge to cslint."""
    import compileall

    import cslint
    import cslint.rules
    folders = dict.fromkeys([*cslint.__path__, *cslint.rules.__path__])
    ok = all(compileall.compile_dir(folder, quiet=1) for folder in folders)
    rows.append(("cslint bytecode", f"compiled ({len(folders)} folders)" if ok else "compile FAILED"))


def cslint(*args: str) -> list[str]:
    return [sys.executable, "-m", "cslint", "--exit-zero", *args]


def find_checkov(given: str | None) -> str | None:
    for candidate in (given, "/tmp/checkov-venv/bin/checkov", shutil.which("checkov")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def bench_size(n: int, tmp: Path, repeat: int, checkov: str | None, rows: "Rows", fix_max: int,
               checkov_max: int, instructions: bool = False) -> float:
    tree = tmp / f"corpus-{n}"
    files = write_corpus(tree, n)
    label = f"{n:,} docs / {len(files):,} files"
    parse, serial, jobs2 = rounds([[sys.executable, "-c", PARSE_SCRIPT, str(tree)],
                                   cslint("-j", "1", str(tree)), cslint("-j", "2", str(tree))], repeat)
    rows.append((f"{label}: yaml.load_all (CSafeLoader)", str(parse)))
    rows.append((f"{label}: cslint -j1", f"{serial}   = {serial / parse} of parse"))
    rows.append((f"{label}: cslint -j2", f"{jobs2}   = {jobs2 / parse} of parse, "
                                         f"speed-up {serial.wall / jobs2.wall:.2f}× wall"))
    rows.append(two_cores_row(tree, label, repeat))
    if n <= fix_max:
        fix_tree = tmp / f"fix-{n}"
        shutil.copytree(tree, fix_tree)
        fix = run(cslint("--fix", str(fix_tree)), 1)
        rows.append((f"{label}: cslint --fix (first run)", f"{fix}   = {fix / serial} of cslint"))
        shutil.rmtree(fix_tree)
    if checkov and n <= checkov_max:  # Checkov takes ~20 s per 1,000 documents, more per 1k beyond
        rows.append(checkov_row(checkov, tree, label, serial, jobs2, parse))
    if instructions:
        rows.append(instruction_row(tree, label))
    rss = peak_rss_mb(cslint("-j", "1", str(tree)))
    rows.append((f"{label}: peak RSS cslint -j1", f"{rss:7.1f} MB"))
    shutil.rmtree(tree)
    return rss


def instruction_row(tree: Path, label: str) -> tuple[str, str]:
    """Instructions executed (callgrind), parse vs `cslint -j1`: the one figure a shared VM's
    speed swings (up to 2× within minutes, measured) cannot move. Not cycles: a larger heap's
    cache misses cost time that counts no instruction, so wall time can still differ."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return f"{label}: instructions", "valgrind not installed: skipped"
    counts = []
    for cmd in ([sys.executable, "-c", PARSE_SCRIPT, str(tree)], cslint("-j", "1", str(tree))):
        done = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONHASHSEED": "0"})
        found = [line.split(":")[-1].strip() for line in done.stderr.splitlines() if "Collected :" in line]
        if not found:
            return f"{label}: instructions", f"callgrind gave no count (exit {done.returncode})"
        counts.append(int(found[-1]))
    parse, lint = counts
    return (f"{label}: instructions, parse / cslint -j1",
            f"{parse / 1e9:.2f} G / {lint / 1e9:.2f} G   = {lint / parse:.2f}× of parse")


def checkov_row(checkov: str, tree: Path, label: str, serial: Timing, jobs2: Timing, parse: Timing
                ) -> tuple[str, str]:
    """Checkov's kubernetes framework on the same tree, once (it is 20× and more slower: one run's
    noise does not move the ratio), against both cslint runs and against the bare parse: no linter
    that parses with PyYAML can be faster than Checkov by more than that last ratio. A ratio counts
    only when Checkov finished with a report: on a malformed manifest it can crash after minutes of
    work."""
    cmd = [checkov, "-d", str(tree), "--framework", "kubernetes", "--quiet", "--compact", "-o", "json"]
    before, start = os.times(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall, after = time.perf_counter() - start, os.times()
    peer = Timing(wall, (after.children_user - before.children_user) + (after.children_system - before.children_system))
    try:
        report = json.loads(done.stdout)
        checked = sum(r.get("summary", {}).get("resource_count", 0)
                      for r in (report if isinstance(report, list) else [report]))
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{label}: checkov --framework kubernetes", f"{peer}   crashed, no report (exit {done.returncode}): {last[:80]}"
    return (f"{label}: checkov --framework kubernetes",
            f"{peer}   {checked:,} resources; cslint is {peer.wall / serial.wall:.1f}× faster at -j1, "
            f"{peer.wall / jobs2.wall:.1f}× at -j2, the bare parse {peer.wall / parse.wall:.1f}× (wall)")


def two_cores_row(tree: Path, label: str, repeat: int) -> tuple[str, str]:
    """What two busy cores cost each other here: two bare parses at once against one alone. Each
    takes more CPU time than alone (shared caches and memory bandwidth, a host's hyperthreads), so
    `-j2` cannot halve `-j1`; the row gives the best speed-up two processes could get."""
    parse = [sys.executable, "-c", PARSE_SCRIPT, str(tree)]
    alone, both = rounds([parse, (parse, parse)], repeat)
    each = both.cpu / 2
    return (f"{label}: two parses at once / one",
            f"{both.wall / alone.wall:5.2f}× wall, {each / alone.cpu:5.2f}× cpu each: two processes "
            f"do at most {2 * alone.cpu / each:.2f}× the work of one here")


def bench_small(tmp: Path, repeat: int, rows: "Rows") -> None:
    small = tmp / "small.yaml"
    small.write_text(SMALL, encoding="utf-8")
    bare, one = rounds([[sys.executable, "-c", "import yaml"], cslint(str(small))], repeat)
    rows.append(("one small file: python -c 'import yaml'", str(bare)))
    rows.append(("one small file: cslint", f"{one}   = {one / bare} of import yaml"))


class Rows(list):
    """Rows printed as they are measured: a long run shows its figures before it ends."""

    WIDTH = 58

    def append(self, row: tuple[str, str]) -> None:
        super().append(row)
        print(f"{row[0]:<{self.WIDTH}}  {row[1]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fix-max", type=int, default=10_000,
                        help="largest size for the --fix figure (a fix run writes a copy of the tree)")
    parser.add_argument("--checkov", default=None, help="checkov executable (default: /tmp/checkov-venv or PATH)")
    parser.add_argument("--instructions-max", type=int, default=0,
                        help="count instructions under callgrind (valgrind) up to this size; ~1 min "
                             "per 1,000 documents (default 0: not counted)")
    parser.add_argument("--checkov-max", type=int, default=1000,
                        help="largest size Checkov runs on (10,000 documents take it ~5 minutes)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    checkov = find_checkov(args.checkov)
    rows = Rows()
    rows.append(("machine", f"{os.cpu_count()} CPUs, load average "
                            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"))
    rows.append(("checkov", checkov or "not installed: column skipped"))
    compile_bytecode(rows)
    with tempfile.TemporaryDirectory(prefix="cslint-bench-") as tmp:
        bench_small(Path(tmp), max(args.repeat, 5), rows)
        rss = {n: bench_size(n, Path(tmp), args.repeat, checkov, rows, args.fix_max, args.checkov_max,
                             n <= args.instructions_max) for n in sizes}
    ordered = sorted(rss)
    for lo, hi in zip(ordered, ordered[1:]):  # flat memory: each step should stay near 1×
        rows.append((f"peak RSS {hi:,} / {lo:,} docs", f"{rss[hi] / rss[lo]:5.2f}× "
                                                       f"(documents ×{hi / lo:.0f})"))


if __name__ == "__main__":
    main()
