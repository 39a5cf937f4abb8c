"""Issue 8 "Hardening", bullet by bullet: the cases the first hardening tests left out or only
touched. Memory is measured in a child process (its own peak RSS), permissions are tested as a
real unprivileged user (a forked child drops to `nobody` when the suite runs as root), and the
security scans parse the source (AST) and prove on bad snippets that they can fail."""
from __future__ import annotations

import ast
import copy
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from fuzzing import examples

from cslint import podtemplates
from cslint.cli import main
from cslint.documents import MAX_ALIAS_EXPANSION, parse_documents
from cslint.engine import Linter
from cslint.fixer import FixFailed, _verify
from cslint.settings import Settings
from cslint.sources import SourceText
from cslint.workloads import iter_objects
from corpus_paths import CORPUS
from manifests import VLLM_DEPLOYMENT
from test_fix_properties import check_fix_properties

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ["text", "json", "sarif", "github", "junit", "markdown"]


def cli(*args: str, stdin: str | bytes | None = None):
    """In-process run; a crash is exit 2 with 'internal error', so that is checked too."""
    result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def findings(result) -> list[dict]:
    return json.loads(result.stdout)["findings"]


def child_run(args: list[str], stdin: bytes | None = None, timeout: float = 60,
              memory_cap: int | None = None) -> tuple[int, str, float, int]:
    """(exit code, stdout+stderr, seconds, peak RSS in KiB) of `python -m cslint ARGS`; the peak
    is the child's own (wait4), not the largest of every child this session started."""
    import threading

    def limit():
        if memory_cap:
            resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cslint", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=limit)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        proc.stdin.write(stdin or b"")
        proc.stdin.close()
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    assert elapsed < timeout, f"cslint {args} took over {timeout}s"
    return proc.returncode, out.decode("utf-8", "replace"), elapsed, usage.ru_maxrss


@pytest.fixture(scope="module")
def baseline_peak(tmp_path_factory) -> int:
    f = tmp_path_factory.mktemp("base") / "ok.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    code, out, _, peak = child_run(["--output-format", "json", str(f)])
    assert code == 0, out
    return peak


# == Hostile YAML: alias bombs =====================================================================
def _levels(prefix: str, n: int = 9, width: int = 10) -> list[str]:
    """`&x0 [lol × width]`, then each level `width` aliases of the previous: width**n leaves."""
    items = [f"&{prefix}0 [" + ", ".join(["lol"] * width) + "]"]
    items += [f"&{prefix}{i} [" + ", ".join([f"*{prefix}{i - 1}"] * width) + "]" for i in range(1, n)]
    return items


SEQ_BOMB = "".join(f"x{i}: {item}\n" for i, item in enumerate(_levels("l")))
MAP_BOMB = "a0: &a0 {" + ", ".join(f"k{j}: v" for j in range(10)) + "}\n" + "".join(
    f"a{i}: &a{i} {{" + ", ".join(f"k{j}: *a{i - 1}" for j in range(10)) + "}\n" for i in range(1, 9))
MERGE_BOMB = "a0: &a0 {k0: v, k1: v}\n" + "".join(
    f"a{i}: &a{i} {{<<: *a{i - 1}, " + ", ".join(f"k{j}: *a{i - 1}" for j in range(10)) + "}\n" for i in range(1, 9))
WORKLOAD_BOMB = """apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm}
spec:
  selector: {matchLabels: {app: vllm}}
  template:
    metadata:
      labels: {app: vllm}
      x: [""" + ", ".join(_levels("l", 8)) + """]
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.14.0
          args: ["--model", "m", *l7]
          env: *l7
          resources: {limits: {nvidia.com/gpu: 1}}
"""
BOMBS = {"sequence": SEQ_BOMB, "mapping": MAP_BOMB, "merge-keys": MERGE_BOMB, "in-a-workload": WORKLOAD_BOMB}


@pytest.mark.parametrize("mode", [["--output-format", "json"], ["--output-format", "markdown"],
                                  ["--fix", "--unsafe-fixes", "--output-format", "json"], ["stdin"]],
                         ids=["json", "markdown-keeps-data", "fix", "stdin"])
@pytest.mark.parametrize("shape", sorted(BOMBS))
def test_alias_bombs_are_cs000_with_bounded_time_and_peak_memory(tmp_path, baseline_peak, shape, mode):
    """Measured in the child itself: an in-process ru_maxrss is masked by earlier tests' peaks."""
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMBS[shape])
    if mode == ["stdin"]:
        code, out, elapsed, peak = child_run(["--output-format", "json", "-"], stdin=BOMBS[shape].encode())
    else:
        code, out, elapsed, peak = child_run([*mode, str(f)])
    assert elapsed < 15, elapsed
    assert peak - baseline_peak < 150 * 1024, (peak, baseline_peak)  # KiB; a bomb expanded is gigabytes
    report = json.loads(out[out.index("{"):]) if mode != ["--output-format", "markdown"] else None
    if report is not None:
        codes = [x["code"] for x in report["findings"]]
        assert codes == ["CS000"], codes
        assert "alias" in report["findings"][0]["message"]
    else:
        assert "CS000" in out and "alias" in out
    assert code == 1
    assert f.read_text() == BOMBS[shape]  # --fix never writes a file that does not parse


def test_aliases_just_under_the_bound_still_lint_quickly(tmp_path):
    """The bound is on expansion, not on using anchors: 6 levels of 6 (~56k nodes) are fine."""
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {a: &s lol}\n"
            "data:\n  k: *s\n")
    f = tmp_path / "ok.yaml"
    f.write_text(text)
    assert findings(cli("--output-format", "json", "--no-schema", str(f))) == []
    wide = "".join(f"x{i}: {item}\n" for i, item in enumerate(_levels("l", 6, 6)))
    assert 6 ** 6 < MAX_ALIAS_EXPANSION
    docs = list(parse_documents("w.yaml", wide))
    assert docs[0].error is None and len(docs[0].data["x5"]) == 6
    start = time.perf_counter()
    g = tmp_path / "wide.yaml"
    g.write_text(wide)
    for fmt in ("json", "markdown", "sarif"):
        cli("--output-format", fmt, str(g))
    assert time.perf_counter() - start < 15


def test_alias_bomb_in_the_configuration_is_a_clear_error(tmp_path):
    config = tmp_path / "bomb.cslint.yaml"
    config.write_text("rules: [" + ", ".join(_levels("l")) + "]\n")
    ok = tmp_path / "ok.yaml"
    ok.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    code, out, elapsed, _ = child_run(["--config", str(config), str(ok)], timeout=6, memory_cap=400 << 20)
    assert code == 2 and "internal error" not in out and elapsed < 10, out


# == Hostile YAML: deep nesting ====================================================================
DEEP_DEPLOYMENT = VLLM_DEPLOYMENT + "          extra: %s\n"


@pytest.mark.parametrize("depth", [300, 490, 700, 950, 3000])
@pytest.mark.parametrize("mode", [["--output-format", "json"], ["--output-format", "sarif"],
                                  ["--output-format", "markdown"], ["--fix", "--unsafe-fixes"], ["--diff"]])
def test_deep_nesting_inside_a_workload_never_escapes(tmp_path, depth, mode):
    """Data deep enough to parse but too deep to deepcopy broke --fix (RecursionError → exit 2,
    'internal error'); now the fix is refused with a reason and the lint still reports."""
    text = DEEP_DEPLOYMENT % ("{a: " * depth + "1" + "}" * depth)
    f = tmp_path / "deep.yaml"
    f.write_text(text)
    result = cli(*mode, str(f))
    assert result.exit_code in (0, 1), result.output
    after = f.read_text()
    if after != text:  # fixed: it parses, and the deep value survived untouched
        docs = list(parse_documents("d", after))
        assert all(d.error is None for d in docs)
        assert after.count("{a: ") == depth
    elif mode[0] == "--fix":
        assert "nested too deeply" in result.output or "CS000" in result.output


# == Hostile YAML: size ============================================================================
def test_a_100_mb_file_is_refused_without_being_read(tmp_path, baseline_peak):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(100 * 1024 * 1024)  # sparse
    code, out, elapsed, peak = child_run(["--output-format", "json", str(big)])
    assert code == 1 and elapsed < 10
    assert peak - baseline_peak < 20 * 1024, (peak, baseline_peak)  # not read into memory
    (only,) = json.loads(out)["findings"]
    assert only["code"] == "CS000" and "104857600 bytes" in only["message"] and "--max-file-size" in only["message"]
    code, out, _, _ = child_run(["--fix", str(big)])
    assert code == 1 and os.path.getsize(big) == 100 * 1024 * 1024


def test_size_limit_is_configurable_both_ways(tmp_path):
    f = tmp_path / "pad.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + "# pad\n" * 400)
    size = f.stat().st_size
    refused = findings(cli("--output-format", "json", "--max-file-size", str(size - 1), str(f)))
    assert [x["code"] for x in refused] == ["CS000"] and f"{size - 1}-byte limit" in refused[0]["message"]
    assert findings(cli("--output-format", "json", "--no-schema", "--max-file-size", str(size), str(f))) == []


@pytest.mark.parametrize("value", ["0", "-5", "x"])
def test_a_nonsense_size_limit_is_a_usage_error(tmp_path, value):
    f = tmp_path / "ok.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    result = CliRunner().invoke(main, ["--max-file-size", value, str(f)])
    assert result.exit_code == 2 and "--max-file-size" in result.output and "CS000" not in result.output


def test_stdin_and_lying_sizes_are_bounded_too():
    """stdin and character devices report no size: the read itself stops at the limit."""
    over = cli("--output-format", "json", "--max-file-size", "100", "-", stdin=b"a: " + b"x" * 5000)
    (only,) = findings(over)
    assert only["code"] == "CS000" and "100-byte limit" in only["message"] and "--max-file-size" in only["message"]
    if os.path.exists("/dev/zero"):
        start = time.perf_counter()
        (zero,) = findings(cli("--output-format", "json", "--max-file-size", "1000", "/dev/zero"))
        assert zero["code"] == "CS000" and time.perf_counter() - start < 5


# == Hostile YAML: binary and invalid UTF-8 ========================================================
BAD_BYTES = {
    "overlong": b"apiVersion: v1\nkind: ConfigMap\ndata: {k: \xc0\xaf}\n",
    "surrogate": b"apiVersion: v1\nkind: ConfigMap\ndata: {k: \xed\xa0\x80}\n",
    "truncated": b"apiVersion: v1\nkind: ConfigMap\ndata: {k: \xe2\x82}\n",
    "latin1": "apiVersion: v1\nkind: ConfigMap\ndata: {k: caf\xe9}\n".encode("latin-1"),
    "utf16": "apiVersion: v1\nkind: ConfigMap\n".encode("utf-16"),
    "late-nul": b"apiVersion: v1\nkind: ConfigMap\ndata:\n" + b"  k: " + b"x" * 9000 + b"\x00\n",
    "control": b"apiVersion: v1\nkind: ConfigMap\ndata: {k: \x07bell}\n",
    "gzip": b"\x1f\x8b\x08\x00" + bytes(range(256)),
}


@pytest.mark.parametrize("name", sorted(BAD_BYTES))
def test_bad_bytes_are_cs000_inside_the_file_and_never_written(tmp_path, name):
    data = BAD_BYTES[name]
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(data)
    good = tmp_path / "good.yaml"
    good.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx}]\n")
    found = findings(cli("--output-format", "json", str(tmp_path)))
    by_file = {}
    for x in found:
        by_file.setdefault(Path(x["file"]).name, []).append(x)
    assert [x["code"] for x in by_file["bad.yaml"]] == ["CS000"]
    assert 1 <= by_file["bad.yaml"][0]["line"] <= data.count(b"\n") + 1
    assert by_file.get("good.yaml"), "a bad file must not stop the others from being linted"
    piped = findings(cli("--output-format", "json", "-", stdin=data))
    assert [x["code"] for x in piped] == ["CS000"]
    cli("--fix", "--unsafe-fixes", str(bad))
    assert bad.read_bytes() == data


# == Hostile YAML: python tags, duplicate keys, merge keys, long lines =============================
@pytest.mark.parametrize("where", ["key", "image", "second-document", "flow"])
def test_python_tags_are_never_constructed_anywhere(tmp_path, where):
    marker = tmp_path / "pwned"
    tag = f'!!python/object/apply:os.system ["touch {marker}"]'
    text = {
        "key": f"apiVersion: v1\nkind: ConfigMap\ndata:\n  ? {tag}\n  : v\n",
        "image": f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n    - name: c\n      image: {tag}\n",
        "second-document": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\n---\nx: {tag}\n",
        "flow": f"{{apiVersion: v1, kind: ConfigMap, data: {{x: {tag}}}}}\n",
    }[where]
    f = tmp_path / "evil.yaml"
    f.write_text(text)
    for args in (["--output-format", "json"], ["--fix", "--unsafe-fixes"], ["--output-format", "markdown"]):
        cli(*args, str(f))
    cli("--output-format", "json", "-", stdin=text)
    found = findings(cli("--output-format", "json", str(f)))
    assert "CS000" in [x["code"] for x in found]
    assert not marker.exists() and f.read_text() == text


def test_python_tags_in_the_configuration_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    config = tmp_path / "c.cslint.yaml"
    config.write_text(f'select: !!python/object/apply:os.system ["touch {marker}"]\n')
    ok = tmp_path / "ok.yaml"
    ok.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    result = cli("--config", str(config), str(ok))
    assert result.exit_code == 2 and "invalid YAML" in result.output and not marker.exists()


def test_the_document_loader_knows_no_python_constructor():
    from cslint import documents
    loader = documents._Loader
    assert issubclass(loader, yaml.constructor.SafeConstructor)
    assert not issubclass(loader, (yaml.constructor.FullConstructor, yaml.constructor.UnsafeConstructor))
    tags = list(loader.yaml_constructors) + list(loader.yaml_multi_constructors)
    assert not [t for t in tags if t and "python" in t], tags


@pytest.mark.parametrize("text, line", [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, name: b}\n", 3),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  'name': b\n", 5),
    ("apiVersion: v1\nkind: ConfigMap\ndata:\n  \"k\": 1\n  k: 2\n", 5),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\napiVersion: v2\n", 6),
])
def test_duplicate_keys_in_every_spelling_are_cs000_and_block_fixes(tmp_path, text, line):
    f = tmp_path / "dup.yaml"
    f.write_text(text)
    found = findings(cli("--output-format", "json", "--no-schema", str(f)))
    dups = [x for x in found if x["code"] == "CS000"]
    assert len(dups) == 1 and "duplicate key" in dups[0]["message"] and dups[0]["line"] == line
    cli("--fix", "--unsafe-fixes", str(f))
    assert f.read_text() == text


MERGED_SIDECAR = """apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm}
spec:
  selector: {matchLabels: {app: vllm}}
  template:
    metadata: {labels: {app: vllm}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.14.0
          imagePullPolicy: Always
          args: ["--model", "meta-llama/Llama-3.1-8B"]
          resources: &res
            limits: {nvidia.com/gpu: 1, memory: 32Gi}
        - name: proxy
          image: nginx:1.27
          resources:
            <<: *res
            requests: {cpu: "1"}
"""
MERGED_ENGINE = """apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm}
spec:
  selector: {matchLabels: {app: vllm}}
  template:
    metadata: {labels: {app: vllm}}
    spec:
      containers:
        - &engine
          name: vllm
          image: vllm/vllm-openai:latest
          imagePullPolicy: Always
          args: ["--model", "meta-llama/Llama-3.1-8B"]
          resources: {limits: {nvidia.com/gpu: 1}}
        - <<: *engine
          name: second
"""


def test_merge_keys_lint_through_the_cli_with_positions_in_the_file(tmp_path):
    f = tmp_path / "merged.yaml"
    f.write_text(MERGED_ENGINE)
    found = findings(cli("--output-format", "json", "--no-schema", str(f)))
    lines = MERGED_ENGINE.split("\n")
    second = [x for x in found if x["container"] == "second"]
    assert {"CS202", "CS201"} <= {x["code"] for x in second}  # merged fields are seen
    for x in found:
        assert 1 <= x["line"] <= len(lines) and 1 <= x["column"] <= len(lines[x["line"] - 1]) + 1, x


def test_fixes_through_merge_keys_keep_the_data_or_refuse(tmp_path):
    """Where the fix touches only written keys it must apply exactly (independent replay);
    where it would edit an anchor other objects share, that fix is refused and says why."""
    outcome = check_fix_properties("merged.yaml", MERGED_SIDECAR)
    assert outcome.changed and "<<: *res" in outcome.text
    f = tmp_path / "shared.yaml"
    f.write_text(MERGED_ENGINE)
    result = cli("--fix", "--unsafe-fixes", str(f))
    after = f.read_text()
    if after == MERGED_ENGINE:
        assert "could not be applied" in result.output and "cannot edit a node that an alias refers to" in result.output
    else:
        assert all(d.error is None for d in parse_documents("m", after))
        assert "*engine" in after


POD_HEAD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
ENGINE = '    image: vllm/vllm-openai:v0.12.0\n    args: ["--model", "m/m"]\n'
SHARED_BY_ALIAS = {
    "merged-base": (POD_HEAD + '  - &base {name: sidecar, image: busybox:1.36, env: [{name: A, value: "1"}]}\n'
                    "  - <<: *base\n    name: vllm\n" + ENGINE, "CS402"),
    "merged-resources": (POD_HEAD + "  - name: vllm\n" + ENGINE + "    resources: &res {limits: {memory: 8Gi}}\n"
                         "  - name: other\n    image: busybox:1.36\n    resources: {<<: *res}\n", "CS406"),
    "aliased-env": ("""apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
metadata:
  name: lws
spec:
  leaderWorkerTemplate:
    size: 2
    leaderTemplate:
      spec:
        containers:
        - name: vllm
          image: vllm/vllm-openai:v0.12.0
          args: ["--model", "m/m"]
          env: &env
          - {name: A, value: "1"}
    workerTemplate:
      spec:
        containers:
        - name: vllm
          image: vllm/vllm-openai:v0.12.0
          args: ["--model", "m/m"]
          env: *env
""", "CS402"),
}


@pytest.mark.parametrize("name", sorted(SHARED_BY_ALIAS))
def test_fixes_under_an_anchored_node_are_refused_not_spread_through_the_alias(tmp_path, name):
    """An edit under `&a` (reached from the anchor's side, an alias's or a merge key's) is read at
    every place that refers to it: the sidecar got NCCL_CUMEM_ENABLE, both containers the new
    memory limit, the shared env list the variable twice. The fix is refused and says why."""
    text, code = SHARED_BY_ALIAS[name]
    f = tmp_path / f"{name}.yaml"
    f.write_text(text)
    result = cli("--isolated", "--fix", "--unsafe-fixes", "--select", code, str(f))
    assert f.read_text() == text
    assert "cannot edit a node that an alias refers to" in result.output, result.output


def test_a_refused_fix_leaves_the_others_of_the_file_to_apply(tmp_path):
    """The refusal is about one node's layout: the file's other fixes (here the pull policy of a
    container nobody aliases) still go in, and the message names the fix left out."""
    text = SHARED_BY_ALIAS["merged-base"][0] + "  - name: puller\n    image: busybox:latest\n"
    f = tmp_path / "mixed.yaml"
    f.write_text(text)
    result = cli("--isolated", "--fix", "--unsafe-fixes", "--select", "CS402,CS202", str(f))
    after = f.read_text()
    assert "imagePullPolicy: IfNotPresent" in after and "NCCL_CUMEM_ENABLE" not in after
    assert after.replace("\n    imagePullPolicy: IfNotPresent", "") == text
    assert "fix CS402 could not be applied" in result.output and "the other fixes were applied" in result.output
    assert "left unchanged" not in result.output
    cs402 = [line for line in result.output.splitlines() if ": CS402 " in line]
    assert cs402 and not any(line.endswith("[*]") for line in cs402)  # --fix just failed to apply it
    assert "fixable with `cslint --fix`" not in result.output  # the summary names no fixable finding


def test_a_container_whose_env_is_an_alias_gets_the_fixes_it_can_take(tmp_path):
    """`env: *e` as a container's last key (block) or among a flow container's entries: adding
    volumeMounts after it went into the middle of the entry (verification caught it and reverted
    every fix of the file, with "please report this cslint bug"). A block mapping now ends at the
    alias token; a flow collection holding an alias is refused, and the file's other fixes go in."""
    for layout in ("flow", "block"):
        if layout == "flow":
            text = (POD_HEAD + '  - {name: a, image: "vllm/vllm-openai:v0.11.0", args: [m/m], env: &e [{name: A, value: "1"}]}\n'
                    '  - {name: b, image: "vllm/vllm-openai:v0.11.0", args: [m/m], env: *e}\n')
        else:
            text = (POD_HEAD + '  - name: a\n    image: "vllm/vllm-openai:v0.11.0"\n    args: [m/m]\n    env: &e\n'
                    '      - {name: A, value: "1"}\n  - name: b\n    image: "vllm/vllm-openai:v0.11.0"\n'
                    "    args: [m/m]\n    env: *e\n")
        f = tmp_path / f"{layout}.yaml"
        f.write_text(text)
        result = cli("--isolated", "--fix", "--select", "CS401", str(f))
        assert "please report" not in result.output, result.output
        assert ("the other fixes were applied" in result.output) == (layout == "flow"), result.output
        pod = yaml.safe_load(f.read_text())
        a, b = pod["spec"]["containers"]
        assert a["volumeMounts"] == [{"name": "dshm", "mountPath": "/dev/shm"}]
        # block: the mount goes after `env: *e`; flow: the collection holding the alias is refused
        assert b.get("volumeMounts") == (a["volumeMounts"] if layout == "block" else None)
        assert pod["spec"]["volumes"][0]["emptyDir"] == {"medium": "Memory", "sizeLimit": "16Gi"}
        assert a["env"] is b["env"]  # still one list, through the alias


def test_an_env_item_aliasing_a_node_inside_the_item_before_it_is_not_extended(tmp_path):
    """`- *r` after an env item that holds `&r`: the anchored node starts after that item does,
    so the alias was taken for the list's own last item, its end for the list's, and the env
    var went into the middle of the other item (every fix of the file reverted as a cslint bug)."""
    text = (POD_HEAD + '  - name: vllm\n    image: "vllm/vllm-openai:v0.11.0"\n    args: ["--model", "/m"]\n'
            "    env:\n    - name: TOKEN\n      valueFrom:\n        secretKeyRef: &r\n          name: hf\n"
            "          key: token\n    - *r\n")
    f = tmp_path / "p.yaml"
    f.write_text(text)
    result = cli("--isolated", "--fix", "--unsafe-fixes", str(f))
    assert "please report" not in result.output, result.output
    assert "its last entry is an alias" in result.output
    container = yaml.safe_load(f.read_text())["spec"]["containers"][0]
    assert "--gpu-memory-utilization" in container["args"]  # the fixes that can go in do
    assert container["env"][1] is container["env"][0]["valueFrom"]["secretKeyRef"]


def test_refused_fixes_are_tried_alone_without_walking_the_document_each_time(tmp_path, monkeypatch):
    """Each container's refused fix was tried alone with a fresh editor (the document's style
    and aliases found anew) and a verifying re-parse: 2,000 containers sharing `env: *e` did not
    finish in 300 s. Each is now walked once per pass."""
    from cslint import editstate, fixer, render
    walks, verified = [], []
    real_style, real_ids, real_verify = render._detect_style, editstate._walk_ids, fixer._verify
    monkeypatch.setattr(render, "_detect_style", lambda *a: walks.append("style") or real_style(*a))
    monkeypatch.setattr(editstate, "_walk_ids", lambda *a: walks.append("ids") or real_ids(*a))
    monkeypatch.setattr(fixer, "_verify", lambda *a: verified.append(1) or real_verify(*a))
    n = 200
    text = POD_HEAD + "".join(f'  - name: c{i}\n    image: "vllm/vllm-openai:v0.11.0"\n    args: [m/m]\n'
                              + ('    env: &e\n      - {name: A, value: "1"}\n' if i == 0 else "    env: *e\n")
                              for i in range(n))
    f = tmp_path / "many.yaml"
    f.write_text(text)
    cli("--isolated", "--fix", "--unsafe-fixes", str(f))
    after = yaml.safe_load(f.read_text())["spec"]["containers"]
    assert all("--gpu-memory-utilization" in c["args"] for c in after)  # CS403's fixes went in
    assert len(walks) < 50 and len(verified) < 20, (len(walks), len(verified))


def test_verify_does_not_share_what_aliases_share():
    """The fixer's check applies the patch to a copy without the aliasing, so text edited at an
    anchor no longer matches a patch that meant one place."""
    doc = next(parse_documents("a.yaml", "x: &a [1]\ny: *a\n"))
    with pytest.raises(FixFailed, match="does not match its patch"):
        _verify(doc, "x: &a [1, 2]\ny: *a\n", [{"op": "add", "path": "/x/-", "value": 2}], "CS000")


def test_a_workload_on_one_very_long_line_lints_and_fixes(tmp_path):
    pad = "x" * 2_000_000
    text = ('{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "vllm", "annotations": '
            f'{{"pad": "{pad}"}}}}, "spec": {{"selector": {{"matchLabels": {{"app": "vllm"}}}}, "template": '
            '{"metadata": {"labels": {"app": "vllm"}}, "spec": {"containers": [{"name": "vllm", '
            '"image": "vllm/vllm-openai:v0.14.0", "imagePullPolicy": "Always", '
            '"args": ["--model", "meta-llama/Llama-3.1-8B"], "resources": {"limits": {"nvidia.com/gpu": 1}}}]}}}}\n')
    f = tmp_path / "long.yaml"
    f.write_text(text)
    start = time.perf_counter()
    found = findings(cli("--output-format", "json", "--no-schema", str(f)))
    assert "CS202" in {x["code"] for x in found}
    for x in found:
        assert x["line"] == 1 and 1 <= x["column"] <= len(text), x
    pull = next(x for x in found if x["code"] == "CS202")
    assert text[pull["column"] - 1:].startswith('"Always"') or text[pull["column"] - 1:].startswith("Always")
    cli("--fix", "--no-schema", str(f))
    fixed = f.read_text()
    (doc,) = parse_documents("long.yaml", fixed)
    assert doc.error is None and doc.data["metadata"]["annotations"]["pad"] == pad
    assert "--gpu-memory-utilization" in doc.data["spec"]["template"]["spec"]["containers"][0]["args"]
    assert time.perf_counter() - start < 30


# == Generated manifests: every kind the workload model knows ======================================
def _kind_table() -> list[tuple[str, str, tuple, str]]:
    """(kind, apiVersion, path, shape) from podtemplates' own tables: a kind added there is
    generated here without touching this file."""
    out = [("Pod", "v1", ("spec",), podtemplates.PODSPEC),
           ("Service", "serving.knative.dev/v1", ("spec", "template"), podtemplates.TEMPLATE),
           ("InferenceService", "serving.kserve.io/v1beta1", ("spec", "predictor"), podtemplates.PODSPEC),
           ("InferenceService", "serving.kserve.io/v1beta1", ("spec", "predictor", "workerSpec"), podtemplates.PODSPEC),
           ("InferenceService", "serving.kserve.io/v1beta1", ("spec", "predictor", "model"), "container"),
           ("ServingRuntime", "serving.kserve.io/v1alpha1", ("spec",), podtemplates.PODSPEC),
           ("ClusterServingRuntime", "serving.kserve.io/v1alpha1", ("spec", "workerSpec"), podtemplates.PODSPEC)]
    for kind, entries in podtemplates._CORE.items():
        out += [(kind, "example.io/v1", path, shape) for path, shape, _ in entries]
    for kind, root in podtemplates.RAY_CLUSTER_ROOTS.items():
        out += [(kind, "ray.io/v1", root + path, shape) for path, shape, _ in podtemplates._RAY_CLUSTER]
    return out


KINDS = _kind_table()
WRONG = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                  st.text(max_size=5), st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
CONTAINER = st.fixed_dictionaries({
    "name": st.sampled_from(["vllm", "sidecar", "main"]),
    "image": st.sampled_from(["vllm/vllm-openai:v0.14.0", "vllm/vllm-openai:latest", "nginx", "lmsysorg/sglang:latest",
                              "ghcr.io/x/y@sha256:" + "a" * 64])}, optional={
    "command": st.sampled_from([["vllm", "serve"], ["python3", "-m", "vllm.entrypoints.openai.api_server"],
                                ["sh", "-c", "vllm serve m --hf-token hf_zz1234567 --port 8000"]]),
    "args": st.lists(st.sampled_from([["--model", "meta-llama/Llama-3.1-8B"], ["--gpu-memory-utilization", "0.95"],
                                      ["--enforce-eager"], ["--tensor-parallel-size=2"], ["serve"], ["x"],
                                      ["--load-format", "runai_streamer"], ["--hf-token", "hf_abc12345"],
                                      ["--max-num-batched-tokens", "8192"]]), max_size=5).map(lambda g: sum(g, [])),
    "env": st.lists(st.one_of(
        st.sampled_from([{"name": "HF_TOKEN", "value": "hf_secret99"}, {"name": "HF_HUB_OFFLINE", "value": "1"},
                         {"name": "NCCL_CUMEM_ENABLE", "value": "0"}, {"name": "TOKENIZERS_PARALLELISM", "value": "false"},
                         {"name": "HF_HOME", "value": "/cache"}]),
        st.just({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "t"}}})), max_size=4),
    "resources": st.fixed_dictionaries({}, optional={"limits": st.fixed_dictionaries(
        {}, optional={"nvidia.com/gpu": st.integers(0, 8), "memory": st.sampled_from(["16Gi", "x"])})}),
    "volumeMounts": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["shm", "cache"]),
                                                    "mountPath": st.sampled_from(["/dev/shm", "/root/.cache"])}),
                             max_size=2),
    "imagePullPolicy": st.sampled_from(["Always", "IfNotPresent", "Sometimes"]),
    "startupProbe": st.fixed_dictionaries({"httpGet": st.just({"path": "/health", "port": 8000})},
                                          optional={"failureThreshold": st.integers(-1, 500)}),
})
VOLUMES = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["shm", "cache"])}, optional={
    "emptyDir": st.fixed_dictionaries({}, optional={"medium": st.just("Memory"),
                                                    "sizeLimit": st.sampled_from(["1Gi", "32Gi", "x"])}),
    "persistentVolumeClaim": st.fixed_dictionaries({"claimName": st.just("vllm-cache")})}), max_size=2)


def build(entry: tuple, containers: list[dict], volumes: list[dict], replicas: int | None = None) -> dict:
    kind, api, path, shape = entry
    doc: dict = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "ns"}}
    containers = [dict(c, name=f"{c.get('name', 'c')}-{i}") for i, c in enumerate(containers)]  # unique, as k8s wants
    pod_spec = {"containers": containers, "volumes": volumes}
    leaf: dict | list = {"metadata": {"labels": {"app": "x"}}, "spec": pod_spec} if shape == podtemplates.TEMPLATE \
        else containers[0] if shape == "container" else pod_spec
    node: dict = doc
    for i, key in enumerate(path):
        if key == "*":
            continue
        if i + 1 < len(path) and path[i + 1] == "*":
            rest = path[i + 2:]
            item: dict = {"groupName": "g", "replicas": 1}
            sub = item
            for k in rest[:-1]:
                sub = sub.setdefault(k, {})
            sub[rest[-1]] = leaf
            node[key] = [item]
            break
        node = node.setdefault(key, {}) if i + 1 < len(path) else node
        if i + 1 == len(path):
            node[key] = leaf
    if replicas is not None and isinstance(doc.get("spec"), dict):
        doc["spec"].setdefault("replicas", replicas)
    return doc


def corrupt(doc: dict, draw) -> None:
    """Replace one value, at a random depth, with a value of a random wrong type."""
    node, path = doc, []
    while isinstance(node, (dict, list)) and node and draw(st.integers(0, 4)):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        path.append((node, key))
        node = node[key]
    if path:
        parent, key = path[-1]
        parent[key] = draw(WRONG)


@st.composite
def any_kind(draw, wrong_types: bool = True) -> dict:
    entry = draw(st.sampled_from(KINDS))
    doc = build(entry, draw(st.lists(CONTAINER, min_size=1, max_size=3)), draw(VOLUMES),
                draw(st.one_of(st.none(), st.integers(0, 3))))
    if wrong_types:
        # corrupted in place: a copy, since `sampled_from`/`just` hand out the same dicts each time
        # (mutating them changed later draws: Hypothesis's FlakyStrategyDefinition under `make fuzz`)
        doc = copy.deepcopy(doc)
        for _ in range(draw(st.integers(0, 3))):
            corrupt(doc, draw)
    return doc


@pytest.mark.parametrize("entry", KINDS, ids=lambda e: f"{e[0]}:{'.'.join(e[2])}")
def test_the_generator_reaches_the_containers_of_every_kind(entry):
    """Without this, a strategy could build documents the workload model never looks into."""
    doc = build(entry, [{"name": "vllm", "image": "vllm/vllm-openai:v0.14.0", "args": ["--model", "m"]}], [])
    objs = list(iter_objects(doc))
    names = [c.name for o in objs for t in o.templates for c in t.containers]
    assert names and set(names) <= {"vllm-0", "kserve-container"}, (entry, names)


def assert_positions_inside(text: str, result) -> None:
    lines = text.split("\n")
    for f in result.findings:
        p = f.position
        assert p is not None, f
        assert 1 <= p.line <= p.end_line <= len(lines), (f, len(lines))
        assert 1 <= p.column <= len(lines[p.line - 1]) + 1, f


def dump(docs: list[dict], flow: bool = False) -> str:
    """YAML text; copied first, since values hypothesis shares would be dumped as aliases
    (fixes through aliases are refused by design: test_fixes_through_merge_keys_keep_the_data_or_refuse)."""
    docs = json.loads(json.dumps(docs))  # deepcopy would keep the sharing
    return "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=flow or None) for d in docs)


@hsettings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_kind(), min_size=1, max_size=3), st.booleans())
def test_every_kind_with_wrong_types_lints_with_positions_inside(docs, flow):
    text = dump(docs, flow)
    assert_positions_inside(text, Linter(Settings()).lint_sources([SourceText("gen.yaml", text)])[0])


@hsettings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(docs=st.lists(any_kind(), min_size=1, max_size=2), fmt=st.sampled_from(FORMATS))
def test_every_kind_through_the_cli_exits_0_or_1_with_well_formed_output(tmp_path, docs, fmt):
    """Exit 2 is for usage errors; a crash also exits 2 ('internal error'), so 0/1 is the property."""
    f = tmp_path / "gen.yaml"
    text = dump(docs)
    f.write_text(text)
    result = CliRunner().invoke(main, ["--output-format", fmt, str(f)], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    if fmt in ("json", "sarif"):
        report = json.loads(result.stdout)
        if fmt == "json":
            for x in report["findings"]:
                assert 1 <= x["line"] <= text.count("\n") + 1
    elif fmt == "junit":
        ET.fromstring(result.stdout)
    for secret in ("hf_abc12345", "hf_zz1234567", "hf_secret99"):
        assert secret not in result.stdout


@hsettings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_kind())
def test_fix_invariants_hold_for_every_kind(doc):
    """Equivalence by an independent jsonpatch replay, idempotence, comments, no new CS001
    (test_fix_properties.check_fix_properties), on wrong-typed documents of every kind. Leaf
    collections are in flow style; whole documents in wrapped flow style are left to the flow
    editing tests (test_fix_flow.py): a removal there may reflow the neighbouring line."""
    text = "# top comment\n" + dump([doc])
    check_fix_properties("gen.yaml", text)


@hsettings(max_examples=examples(80), deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_any_input_on_stdin_exits_0_or_1_without_internal_error(data):
    result = CliRunner().invoke(main, ["--output-format", "json", "-"], input=data, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.output
    for x in json.loads(result.stdout)["findings"]:
        assert 1 <= x["line"] <= data.count(b"\n") + 1, x


CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/corpus is not present in this clone")
@hsettings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corpus_documents_with_wrong_types_in_random_places(data):
    """Structure-level mutation of real manifests (the line-level one is in test_generated)."""
    path = data.draw(st.sampled_from(CORPUS_FILES))
    docs = [d.data for d in parse_documents(str(path), path.read_text(encoding="utf-8", errors="replace"))
            if isinstance(d.data, dict)]
    if not docs:
        return
    for _ in range(data.draw(st.integers(1, 4))):
        corrupt(docs[data.draw(st.integers(0, len(docs) - 1))], data.draw)
    text = dump(docs)
    assert_positions_inside(text, Linter(Settings()).lint_sources([SourceText("m.yaml", text)])[0])
    check_fix_properties("m.yaml", text)


# == Filesystem, as a real unprivileged user ========================================================
FIXABLE = VLLM_DEPLOYMENT
NOBODY = 65534


def _warm_imports(tmp: Path) -> None:
    """The child drops privileges after fork and cannot read site-packages under /root: every
    module a run needs is imported here first, by doing the same runs on a scratch copy."""
    scratch = tmp / "warm"
    scratch.mkdir()
    f = scratch / "w.yaml"
    for args in (["--output-format", "json"], ["--fix", "--unsafe-fixes"], []):
        f.write_text(FIXABLE)
        CliRunner().invoke(main, [*args, str(f)])
    shutil.rmtree(scratch)


def as_unprivileged(args: list[str]) -> tuple[int, str]:
    """(exit code, output) of a cslint run as a user file modes apply to."""
    if os.geteuid() != 0:
        result = CliRunner().invoke(main, args)
        return result.exit_code, result.output
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            result = CliRunner().invoke(main, args)
            payload = [result.exit_code, result.output]
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            payload = [99, f"child failed: {exc!r}"]
        with os.fdopen(write, "w") as fh:
            json.dump(payload, fh)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        raw = fh.read()
    os.waitpid(pid, 0)
    code, output = json.loads(raw)
    assert code != 99, output
    return code, output


@pytest.fixture
def shared_dir():
    """A directory outside pytest's 0700 tmp tree, owned by the unprivileged user."""
    d = Path(tempfile.mkdtemp(prefix="cslint-perm-"))
    _warm_imports(d)
    if os.geteuid() == 0:
        os.chmod(d, 0o755)
        os.chown(d, NOBODY, NOBODY)
    yield d
    for p in d.rglob("*"):  # give back every mode so the tree can be removed
        if not p.is_symlink():
            os.chmod(p, 0o700)
    shutil.rmtree(d, ignore_errors=True)


def _own(path: Path, mode: int) -> None:
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
    os.chmod(path, mode)


def _one_error_line(output: str) -> str:
    errors = [line for line in output.splitlines() if line.startswith("cslint: error")]
    assert len(errors) == 1 and "Traceback" not in output and "internal error" not in output, output
    return errors[0]


def test_control_the_unprivileged_user_can_fix_a_writable_file(shared_dir):
    f = shared_dir / "ok.yaml"
    f.write_text(FIXABLE)
    _own(f, 0o644)
    code, output = as_unprivileged(["--fix", str(f)])
    assert code in (0, 1), output
    assert "/dev/shm" in f.read_text() and "/dev/shm" not in FIXABLE  # CS401's safe fix


def test_unreadable_file_for_a_real_user(shared_dir):
    f = shared_dir / "locked.yaml"
    f.write_text(FIXABLE)
    _own(f, 0o000)
    code, output = as_unprivileged([str(f)])
    assert code == 2 and "Permission denied" in _one_error_line(output) and "locked.yaml" in output
    code, output = as_unprivileged([str(shared_dir)])  # found by the walk, not named
    assert code == 2 and "locked.yaml" in _one_error_line(output)


def test_explain_cold_start_explains_what_it_can_read_for_a_real_user(shared_dir):
    """explain-cold-start stopped at a file it was not allowed to read; now it says so, as check
    does, explains the readable files and exits 2."""
    locked, ok = shared_dir / "locked.yaml", shared_dir / "ok.yaml"
    for f, mode in ((locked, 0o000), (ok, 0o644)):
        f.write_text(FIXABLE)
        _own(f, mode)
    code, output = as_unprivileged(["explain-cold-start", "--isolated", str(locked), str(ok)])
    assert code == 2 and _one_error_line(output) == f"cslint: error: {locked}: cannot read: Permission denied"
    assert f"Deployment/-/vllm  container vllm  ({ok}:" in output


def test_directory_without_permission_for_a_real_user(shared_dir):
    sub = shared_dir / "private"
    sub.mkdir()
    (sub / "a.yaml").write_text(FIXABLE)
    _own(sub / "a.yaml", 0o644)
    _own(sub, 0o000)
    code, output = as_unprivileged([str(shared_dir)])
    assert code == 2 and "cannot read directory" in _one_error_line(output)
    _own(sub, 0o300)  # searchable but not listable
    code, output = as_unprivileged([str(shared_dir)])
    assert code == 2 and "private" in _one_error_line(output)


def test_read_only_file_for_a_real_user_is_not_written(shared_dir):
    f = shared_dir / "ro.yaml"
    f.write_text(FIXABLE)
    _own(f, 0o444)
    code, output = as_unprivileged(["--fix", str(f)])
    assert code == 2 and "ro.yaml" in _one_error_line(output)
    assert f.read_text() == FIXABLE and not list(shared_dir.glob(".cslint-*"))


def test_read_only_directory_for_a_real_user_is_not_written(shared_dir):
    sub = shared_dir / "ro-dir"
    sub.mkdir()
    f = sub / "a.yaml"
    f.write_text(FIXABLE)
    _own(f, 0o644)
    _own(sub, 0o555)
    code, output = as_unprivileged(["--fix", str(f)])
    assert code == 2 and "cannot write" in _one_error_line(output)
    assert f.read_text() == FIXABLE and not list(sub.glob(".cslint-*"))


def _report_target(shared_dir: Path, name: str, mode: int, directory_mode: int | None = None) -> tuple[Path, Path]:
    """A manifest to lint and an existing report file `name` (the unprivileged user's)."""
    manifest = shared_dir / "m.yaml"
    manifest.write_text(FIXABLE)
    _own(manifest, 0o644)
    report = shared_dir / name
    report.parent.mkdir(exist_ok=True)
    report.write_text("previous\n")
    _own(report, mode)
    if directory_mode is not None:
        _own(report.parent, directory_mode)
    return manifest, report


def test_a_read_only_report_file_for_a_real_user_is_not_replaced(shared_dir):
    """`-o FILE` replaces FILE with a rename its directory allows: a read-only FILE is still
    refused, as open(FILE, "w") refused it, and left as it was."""
    manifest, report = _report_target(shared_dir, "ro.json", 0o444)
    code, output = as_unprivileged(["-o", str(report), str(manifest)])
    assert code == 2 and _one_error_line(output) == f"cslint: error: cannot write {report}: Permission denied"
    assert report.read_text() == "previous\n" and sorted(os.listdir(shared_dir)) == ["m.yaml", "ro.json"]


def test_a_writable_report_file_in_a_read_only_directory_is_written_in_place(shared_dir):
    """No temporary file can go beside it: the report is written into FILE, as before."""
    manifest, report = _report_target(shared_dir, "ro-dir/report.json", 0o644, directory_mode=0o555)
    code, output = as_unprivileged(["--output-format", "json", "-o", str(report), str(manifest)])
    assert code == 1, output
    assert json.loads(report.read_text())["summary"]["files"] == 1
    assert os.listdir(report.parent) == ["report.json"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a file another user owns")
def test_a_report_file_another_user_owns_is_written_in_place(shared_dir):
    """A replacement would be root's file: FILE is written in place and stays its owner's."""
    manifest, report = _report_target(shared_dir, "theirs.json", 0o644)
    inode = report.stat().st_ino
    result = cli("--output-format", "json", "-o", str(report), str(manifest))
    assert result.exit_code == 1 and json.loads(report.read_text())["summary"]["files"] == 1
    assert (report.stat().st_ino, report.stat().st_uid) == (inode, NOBODY)


def test_symlink_loops_named_on_the_command_line_are_one_clear_error(tmp_path):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    result = cli(str(tmp_path / "a.yaml"))
    assert result.exit_code == 2 and "symbolic links" in _one_error_line(result.output)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "self").symlink_to(tmp_path / "dir", target_is_directory=True)
    (tmp_path / "dir" / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    walked = json.loads(cli("--output-format", "json", "--no-schema", str(tmp_path / "dir")).stdout)
    assert walked["summary"]["files"] == 1  # the self-link is visited once, its file counted once


def test_a_concurrent_save_during_the_write_is_kept(tmp_path, monkeypatch):
    """The comparison happens again right before the rename: a save that lands while the
    temporary file is written wins, and no temporary file is left behind."""
    import cslint.fixer as fixer
    f = tmp_path / "racy.yaml"
    f.write_text(FIXABLE)
    theirs = FIXABLE + "# saved by an editor mid-write\n"
    real_fsync = os.fsync

    def fsync_then_save(fd):
        real_fsync(fd)
        f.write_text(theirs)
    monkeypatch.setattr(fixer.os, "fsync", fsync_then_save)
    result = cli("--fix", str(f))
    assert result.exit_code == 2 and "changed on disk" in result.output
    assert f.read_text() == theirs and not list(tmp_path.glob(".cslint-*"))


def test_a_file_removed_while_being_fixed_is_reported_as_removed(tmp_path, monkeypatch):
    import cslint.fixer as fixer
    f = tmp_path / "gone.yaml"
    f.write_text(FIXABLE)
    real = fixer.fix_text

    def fix_then_remove(*args, **kwargs):
        outcome = real(*args, **kwargs)
        f.unlink()
        return outcome
    monkeypatch.setattr(fixer, "fix_text", fix_then_remove)
    result = cli("--fix", str(f))
    assert result.exit_code == 2 and "removed while it was being fixed" in result.output
    assert not f.exists() and not list(tmp_path.glob(".cslint-*"))


def test_fixing_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.yaml"
    target.write_text(FIXABLE)
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    cli("--fix", str(link))
    assert link.is_symlink() and "/dev/shm" in target.read_text()
    assert target.stat().st_mode & 0o777 == 0o640


# == Security: static scans that prove they can fail ===============================================
SCANNED = [p for d in ("linter", "rules", "bench") for p in sorted((ROOT / d).rglob("*.py"))]
SAFE_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader", "_Loader", "_BaseLoader"}
LOADING = {"load", "load_all", "compose", "compose_all", "parse", "scan"}
NEVER = {"unsafe_load", "unsafe_load_all", "full_load", "full_load_all", "Loader", "CLoader", "FullLoader",
         "CFullLoader", "UnsafeLoader", "CUnsafeLoader", "Constructor", "FullConstructor", "UnsafeConstructor"}


def _yaml_aliases(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    modules, names = {"yaml"}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "yaml"}
        elif isinstance(node, ast.ImportFrom) and node.module == "yaml":
            names.update({a.asname or a.name: a.name for a in node.names})
    return modules, names


def _terminal(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else "?"


def unsafe_yaml_uses(source: str) -> list[int]:
    """Lines that load YAML without a safe Loader or name an unsafe loader at all."""
    tree = ast.parse(source)
    modules, names = _yaml_aliases(tree)
    bad = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "yaml"
           and any(a.name in NEVER for a in n.names)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules \
                and node.attr in NEVER:
            bad.append(node.lineno)
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        name = fn.attr if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) \
            and fn.value.id in modules else names.get(fn.id) if isinstance(fn, ast.Name) else None
        if name in LOADING:
            loader = next((k.value for k in node.keywords if k.arg == "Loader"),
                          node.args[1] if len(node.args) > 1 else None)
            if loader is None or _terminal(loader) not in SAFE_LOADERS:
                bad.append(node.lineno)
    return sorted(set(bad))


SUBPROCESS = {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}
OS_SHELL = {"system", "popen", "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
            "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "posix_spawn"}


def shell_risks(source: str) -> list[int]:
    """Lines that run a shell, build a command string, or evaluate code."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        fn, owner = node.func, getattr(getattr(node.func, "value", None), "id", None)
        shell = next((k.value for k in node.keywords if k.arg == "shell"), None)
        runs = _terminal(fn) in SUBPROCESS or _terminal(fn).startswith("create_subprocess")
        if runs and shell is not None and not (isinstance(shell, ast.Constant) and shell.value is False):
            bad.append(node.lineno)
        if isinstance(fn, ast.Attribute) and owner == "subprocess" and fn.attr in SUBPROCESS:
            command = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "args"), None)
            if fn.attr.startswith("getstatus") or fn.attr == "getoutput" or isinstance(
                    command, (ast.Constant, ast.JoinedStr, ast.BinOp)) or (
                    isinstance(command, ast.Call) and _terminal(command.func) in ("format", "join")):
                bad.append(node.lineno)
        if isinstance(fn, ast.Attribute) and owner == "os" and fn.attr in OS_SHELL:
            bad.append(node.lineno)
        if isinstance(fn, ast.Attribute) and fn.attr == "create_subprocess_shell":
            bad.append(node.lineno)
        if isinstance(fn, ast.Name) and fn.id in ("eval", "exec"):
            bad.append(node.lineno)
        if isinstance(fn, ast.Attribute) and owner in ("pickle", "marshal", "shelve") and fn.attr.startswith("load"):
            bad.append(node.lineno)
    return bad


@pytest.mark.parametrize("snippet", [
    "import yaml\nyaml.load(text)\n",
    "import yaml\nyaml.load(text, Loader=yaml.Loader)\n",
    "import yaml\nyaml.load_all(\n    text,\n    Loader=yaml.FullLoader)\n",
    "import yaml as y\ny.unsafe_load(text)\n",
    "from yaml import load\nload(text)\n",
    "from yaml import UnsafeLoader\n",
    "import yaml\nyaml.compose(text, Loader=yaml.CLoader)\n",
    "import yaml\nclass L(yaml.FullLoader): pass\n",
])
def test_the_yaml_scan_catches_unsafe_loading(snippet):
    assert unsafe_yaml_uses(snippet)


@pytest.mark.parametrize("snippet", [
    "import subprocess\nsubprocess.run('kubectl kustomize ' + d)\n",
    "import subprocess\nsubprocess.run(f'kubectl kustomize {d}')\n",
    "import subprocess\nsubprocess.run(['kubectl', d], shell=True)\n",
    "import subprocess\nsubprocess.Popen(' '.join(cmd))\n",
    "import subprocess\nsubprocess.getoutput(cmd)\n",
    "import os\nos.system('kubectl')\n",
    "import os\nos.execvp('kubectl', args)\n",
    "eval(expression)\n",
    "import pickle\npickle.loads(blob)\n",
])
def test_the_shell_scan_catches_shell_commands(snippet):
    assert shell_risks(snippet)


def test_the_scans_accept_the_safe_spellings():
    assert not unsafe_yaml_uses("import yaml\nyaml.safe_load(t)\nyaml.load(t, Loader=yaml.CSafeLoader)\n"
                                "yaml.compose(t, Loader=_Loader)\n")
    assert not shell_risks("import subprocess\nsubprocess.run([kubectl, 'kustomize', d], check=False)\n"
                           "EngineArgs(shell=found.shell)\n")


OWN_PICKLE = "linter/spool.py"


def test_only_safe_yaml_loading_and_no_shell_anywhere_in_the_source():
    assert SCANNED and any(p.name == "kustomize.py" for p in SCANNED)
    yaml_bad = {str(p.relative_to(ROOT)): unsafe_yaml_uses(p.read_text()) for p in SCANNED}
    shell_bad = {str(p.relative_to(ROOT)): shell_risks(p.read_text()) for p in SCANNED}
    assert {k: v for k, v in yaml_bad.items() if v} == {}
    # One exception, checked: `spool.loads` unpickles only what this run wrote to its own
    # anonymous temporary file (unlinked at creation, no path another process could write to), and
    # what its own forked workers pickled - the same trust as multiprocessing's own results.
    spool = (ROOT / OWN_PICKLE).read_text()
    assert "tempfile.TemporaryFile(" in spool and "open(" not in spool
    assert [spool.splitlines()[n - 1].strip() for n in shell_bad.pop(OWN_PICKLE)] == [
        "return pickle.loads(data)"]
    assert {k: v for k, v in shell_bad.items() if v} == {}
    assert not [p for p in SCANNED if "ruamel" in p.read_text()]  # one YAML library, loaded one way


FAKE_KUBECTL = """#!/bin/sh
: > "$CSLINT_ARGV"
for a in "$@"; do printf '%s\\n' "$a" >> "$CSLINT_ARGV"; done
cat <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: rendered}
EOF
"""


def test_kubectl_gets_an_argument_list_whatever_the_directory_is_called(tmp_path, monkeypatch):
    """A directory name full of shell syntax reaches kubectl as one argument and runs nothing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    argv = tmp_path / "argv"
    marker = tmp_path / "pwned"  # relative `touch pwned` below lands here (cwd)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CSLINT_ARGV", str(argv))
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "ov; touch pwned; $(touch pwned) `touch pwned` * |"
    evil.mkdir()
    (evil / "kustomization.yaml").write_text("resources: []\n")
    calls = []
    real_run = subprocess.run

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real_run(*args, **kwargs)
    monkeypatch.setattr(subprocess, "run", spy)  # cslint.kustomize imports subprocess when it renders
    result = cli("--output-format", "json", "--no-schema", str(evil))
    assert result.exit_code == 0, result.output
    (args, kwargs), = calls
    assert isinstance(args[0], list) and args[0][1:] == ["kustomize", str(evil)]
    assert not kwargs.get("shell")
    assert argv.read_text().splitlines() == ["kustomize", str(evil)]
    assert not marker.exists()


# == Security: secrets in every output format =====================================================
ARG_SECRET, EQ_SECRET, ENV_SECRET, SHELL_SECRET, NUM_SECRET = (
    "hf_ArgSecretValue0001", "sk-EqualsSecret0002", "hf_EnvSecretValue0003", "hf_ShellSecret0004", "918273645546")
SECRETS = (ARG_SECRET, EQ_SECRET, ENV_SECRET, SHELL_SECRET, NUM_SECRET)
LEAKY = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: vllm}}
spec:
  selector: {{matchLabels: {{app: vllm}}}}
  template:
    metadata: {{labels: {{app: vllm}}}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
          args: ["--model", "meta-llama/Llama-3.1-8B", "--hf-token", "{ARG_SECRET}", "--api-key={EQ_SECRET}",
                 "--max-num-batched-tokens", "8192", "--tokenizer", "meta-llama/Llama-3.1-8B"]
          env:
            - name: HF_TOKEN
              value: {ENV_SECRET}
            - name: NGC_API_KEY
              value: {NUM_SECRET}
            - name: TOKENIZERS_PARALLELISM
              value: "false"
            - name: HUGGING_FACE_HUB_TOKEN
              valueFrom: {{secretKeyRef: {{name: hf-credentials, key: hub-token}}}}
          resources: {{limits: {{nvidia.com/gpu: 1}}}}
        - name: fetch
          image: busybox:1.36
          command: ["sh", "-c", "HF_TOKEN={SHELL_SECRET} huggingface-cli download m"]
"""


@pytest.fixture
def quoting_rule():
    """A rule that quotes every argument on its own, every env entry and every command: the way
    a careless rule would leak, token by token."""
    from cslint import registry
    from cslint.model import Lever, RuleMeta, Scope, Severity, Violation

    meta = RuleMeta(code="CSX98", name="quote-everything", lever=Lever.INPUT, severity=Severity.WARNING,
                    summary="quotes", scope=Scope.CONTAINER)

    def check(container, settings):
        for i, token in enumerate(container.data.get("args") or []):
            yield Violation(f"argument {token!r}", container.pointer + f"/args/{i}")
        for i, entry in enumerate(container.data.get("env") or []):
            yield Violation(f"env {entry!r}", container.pointer + f"/env/{i}")
        yield Violation(f"command {container.data.get('command')!r}", container.pointer)

    def provider(settings):
        return (registry.Rule(meta, check, __name__),)
    registry.register_provider(provider)
    yield
    registry._extra_providers.remove(provider)


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_reaches_any_format_even_from_real_rules_and_source_excerpts(tmp_path, fmt):
    f = tmp_path / "leaky.yaml"
    f.write_text(LEAKY)
    result = cli("--output-format", fmt, "--show-source", "--statistics", str(f))
    assert result.exit_code == 1
    for secret in SECRETS:
        assert secret not in result.output, (secret, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_quoted_tokens_are_masked_but_references_and_plain_values_are_not(tmp_path, quoting_rule, fmt):
    f = tmp_path / "leaky.yaml"
    f.write_text(LEAKY)
    result = cli("--output-format", fmt, "--extend-select", "CSX98", "--show-source", str(f))
    assert "CSX98" in result.output or "quote-everything" in result.output
    for secret in SECRETS:
        assert secret not in result.output, (secret, fmt)
    # not over-masked: a valueFrom reference names no value; token counts and tokenizers are no secrets
    for visible in ("hf-credentials", "hub-token", "8192", "false", "meta-llama/Llama-3.1-8B"):
        assert visible in result.output, (visible, fmt)


def test_source_excerpts_keep_their_carets_aligned_after_masking(tmp_path):
    f = tmp_path / "leaky.yaml"
    f.write_text(LEAKY)
    out = cli("--show-source", str(f)).stdout.splitlines()
    for i, line in enumerate(out):
        if " | " in line and "*" in line and i + 1 < len(out):
            original = LEAKY.split("\n")[int(line.split("|")[0]) - 1]
            assert len(line.split(" | ", 1)[1]) == len(original)
            assert "^" in out[i + 1]
