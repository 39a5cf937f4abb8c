"""YAML parsers side by side: PyYAML's C loader, cslint's document reader, rapidyaml.

    python bench/parsers.py [--sizes 10000] [--repeat 3]

Writes the bench corpus (bench/corpus.py) to a temporary directory, reads every file into memory
once, then times each parser over the same texts in this one process: best of `--repeat`, as wall
time and as CPU time, and as ratios to `yaml.load_all(CSafeLoader)`. "same data?" counts the
documents whose data differs (`==`) from CSafeLoader's, so a fast path that changes what the rules
would see shows it next to its speed. rapidyaml rows say "not installed" without `pip install
rapidyaml` (the `bench` extra).
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import ROOT, SHARED_CORPUS, write_corpus  # noqa: E402
from cslint.documents import parse_documents  # noqa: E402

Reader = Callable[[str, str], Iterable[Any]]  # (path, text) → one item per document


@dataclass(frozen=True)
class Parser:
    name: str
    read: Reader | None  # None: not installed
    yields_data: bool = True  # False: nodes or tree ids, nothing to compare
    note: str = ""


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    documents: int


def load_all(path: str, text: str) -> Iterable[Any]:
    return yaml.load_all(text, Loader=yaml.CSafeLoader)


def compose_all(path: str, text: str) -> Iterable[Any]:
    return yaml.compose_all(text, Loader=yaml.CSafeLoader)


def cslint_documents(path: str, text: str) -> Iterable[Any]:
    return (doc.data for doc in parse_documents(path, text))


REFERENCE = Parser("yaml.load_all (CSafeLoader)", load_all)


def rapidyaml_parsers() -> list[Parser]:
    names = ("rapidyaml parse_in_arena only", "rapidyaml walk to dicts (YAML 1.1)",
             "rapidyaml emit_json + json.loads")
    try:
        import ryml_data
    except ImportError as exc:
        return [Parser(name, None, note=f"not installed ({exc.name})") for name in names]
    walker = ryml_data.TreeToData()
    return [
        Parser(names[0], lambda p, t: ryml_data.parse_only(t), yields_data=False, note="tree only"),
        Parser(names[1], lambda p, t: walker.documents(t)),
        Parser(names[2], lambda p, t: ryml_data.json_documents(t)),
    ]


def all_parsers() -> list[Parser]:
    return [
        REFERENCE,
        Parser("yaml.compose_all (CSafeLoader)", compose_all, yields_data=False, note="nodes, no data"),
        Parser("cslint parse_documents", cslint_documents),
        *rapidyaml_parsers(),
    ]


def time_parser(parser: Parser, texts: list[tuple[str, str]], repeat: int) -> Timing:
    """Best wall and best CPU time over `repeat` passes; results are dropped as they come, as a
    streaming linter would."""
    assert parser.read is not None
    best_wall = best_cpu = float("inf")
    count = 0
    for _ in range(repeat):
        gc.collect()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        count = 0
        for path, text in texts:
            for _doc in parser.read(path, text):
                count += 1
        best_wall = min(best_wall, time.perf_counter() - wall0)
        best_cpu = min(best_cpu, time.process_time() - cpu0)
    return Timing(best_wall, best_cpu, count)


def count_mismatches(parser: Parser, texts: list[tuple[str, str]]) -> int:
    """Documents whose data differs from CSafeLoader's (a missing, extra or failing one counts)."""
    differ = 0
    for path, text in texts:
        expected = list(load_all(path, text))
        try:
            got = list(parser.read(path, text))
        except Exception:  # noqa: BLE001 - any failure of the parser means the file's data differs
            differ += len(expected)
            continue
        missing = object()
        differ += sum(1 for a, b in zip_longest(expected, got, fillvalue=missing) if a != b)
    return differ


def read_texts(files: list[str]) -> list[tuple[str, str]]:
    return [(path, Path(path).read_text(encoding="utf-8")) for path in files]


def real_texts() -> list[tuple[str, str]]:
    """fixtures/ and the shared corpus as written by people (BOMs, odd chomping, duplicate keys):
    the generated corpus is re-dumped by PyYAML and hides such differences. Files CSafeLoader
    itself refuses are left out: there is no reference data to compare with. cslint differs by
    design where it refuses duplicate keys and skips empty documents."""
    texts = []
    for base in (ROOT / "fixtures", SHARED_CORPUS):
        for path in sorted(base.rglob("*.y*ml")) if base.is_dir() else ():
            try:
                text = path.read_text(encoding="utf-8")
                list(load_all(str(path), text))
            except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
                continue
            texts.append((str(path), text))
    return texts


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """rapidyaml's C++ side prints each parse error to fd 2 before raising; the table stays legible."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


# YAML 1.1 forms Kubernetes tooling reads typed and a YAML 1.2 reader leaves as strings (or the reverse)
YAML11_PROBE = """\
enabled: yes
empty: ~
octal: 012
not_octal: 0o14
sexagesimal: 1:20
date: 2001-12-14
tagged: !!str 5
quoted: 'yes'
"""


def probe_parity(parsers: list[Parser]) -> None:
    print("\nsame data on a YAML 1.1 probe (yes, ~, 012, 0o14, 1:20, 2001-12-14, !!str 5, 'yes'):")
    expected = yaml.load(YAML11_PROBE, Loader=yaml.CSafeLoader)
    for parser in parsers:
        if parser is REFERENCE or parser.read is None or not parser.yields_data:
            continue
        try:
            got = next(iter(parser.read("<probe>", YAML11_PROBE)))
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            print(f"{parser.name:<36} fails: {type(exc).__name__}")
            continue
        wrong = sorted(k for k in expected if not isinstance(got, dict) or got.get(k) != expected[k])
        print(f"{parser.name:<36} {'same' if not wrong else 'differs on ' + ', '.join(wrong)}")


def real_parity(parsers: list[Parser]) -> None:
    texts = real_texts()
    if not texts:
        return
    documents = sum(len(list(load_all(path, text))) for path, text in texts)
    print(f"\nsame data on real files: {len(texts)} files, {documents} documents under fixtures/"
          f"{' and ../shared/corpus/' if SHARED_CORPUS.is_dir() else ''}")
    for parser in parsers:
        if parser is REFERENCE or parser.read is None or not parser.yields_data:
            continue
        with quiet_stderr():
            differing = [(path, n) for path, text in texts if (n := count_mismatches(parser, [(path, text)]))]
        shown = ", ".join(f"{os.path.relpath(p, ROOT)} ({n})" for p, n in differing[:3])
        more = f", … {len(differing) - 3} more files" if len(differing) > 3 else ""
        print(f"{parser.name:<36} {sum(n for _, n in differing):>4} differ"
              f"{': ' + shown + more if differing else ''}", flush=True)


def bench_size(n: int, tmp: Path, repeat: int) -> None:
    files = write_corpus(tmp / f"corpus-{n}", n)
    texts = read_texts(files)
    size_mb = sum(len(text.encode("utf-8")) for _, text in texts) / 1e6
    print(f"\n{n:,} documents, {len(files):,} files, {size_mb:.1f} MB; best of {repeat}; "
          f"ratios to {REFERENCE.name}")
    print(f"{'parser':<36} {'docs':>7} {'wall s':>7} {'cpu s':>7} {'× wall':>7} {'× cpu':>7}  same data?")
    base: Timing | None = None
    for parser in all_parsers():
        if parser.read is None:
            print(f"{parser.name:<36} {parser.note}", flush=True)
            continue
        timing = time_parser(parser, texts, repeat)
        base = base or timing
        if parser is REFERENCE:
            same = "reference"
        elif parser.yields_data:
            same = f"{count_mismatches(parser, texts)} of {timing.documents} differ"
        else:
            same = f"n/a ({parser.note})"
        print(f"{parser.name:<36} {timing.documents:>7} {timing.wall:>7.2f} {timing.cpu:>7.2f} "
              f"{timing.wall / base.wall:>7.2f} {timing.cpu / base.cpu:>7.2f}  {same}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated document counts")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes wants comma-separated integers, got {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.repeat < 1:
        parser.error("--sizes and --repeat must be positive")
    print(f"python {sys.version.split()[0]}, PyYAML {yaml.__version__} "
          f"(libyaml: {yaml.__with_libyaml__}), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="cslint-parsers-") as tmp:
        for n in sizes:
            bench_size(n, Path(tmp), args.repeat)
    probe_parity(all_parsers())
    real_parity(all_parsers())


if __name__ == "__main__":
    main()
