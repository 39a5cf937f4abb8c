"""Command-line behaviour that spans modules: the markdown cold-start section, pipes, lazy commands."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = str(ROOT / "examples")


def run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "cslint", *args], capture_output=True, text=True, cwd=ROOT, **kw)


def test_markdown_report_lists_every_engine_workload_even_without_set_rules():
    for extra in ([], ["--ignore", "CS301,CS302,CS504"]):
        out = run("--output-format", "markdown", *extra, EXAMPLES).stdout
        workloads = [line for line in out.splitlines() if line.startswith("### `")]
        assert len(workloads) == 3, out


def test_closed_pipe_is_not_an_internal_error():
    p = subprocess.Popen([sys.executable, "-m", "cslint", "--no-schema", EXAMPLES, str(ROOT / "fixtures")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.read(10)
    p.stdout.close()  # the reader leaves early, like `| head -1`
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "internal error" not in err and "Traceback" not in err
    assert p.returncode in (0, 1)


def test_plain_lint_imports_no_subcommand_or_network_stack():
    code = ("import sys; sys.argv = ['cslint', '--no-schema', %r]\n"
            "from cslint.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('cslint.pin', 'cslint.webhook.server', 'httpx', 'starlette', 'uvicorn', "
            "'jsonpath_ng', 'kubernetes_validate', 'cslint.explain', 'cslint.kustomize', 'cslint.servingruntimes', "
            # the fix and --diff machinery, and the spool's pickle: a one-file lint without --fix uses none
            "'cslint.fixer', 'cslint.unidiff', 'difflib', 'pickle', 'jsonschema')"
            " if m in sys.modules]\n"
            "print('LOADED', bad)" % (EXAMPLES + "/vllm-deployment.yaml"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
    assert "LOADED []" in out, out


def test_unknown_subcommand_word_is_a_path():
    r = run("no-such-file.yaml")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


def test_text_line_format_is_the_documented_one():
    """`path:line:col: CODE [severity] message (Kind/namespace/name, container c)`, `[*]` last when --fix can fix it."""
    import re
    out = run("--no-schema", "--select", "CS403", EXAMPLES + "/vllm-deployment.yaml").stdout.splitlines()[0]
    assert re.fullmatch(r".*examples/vllm-deployment\.yaml:24:62: CS403 \[error\] --gpu-memory-utilization 0\.95 .* "
                        r"\(Deployment/llm/qwen3-8b, container vllm\) \[\*\]", out), out


def test_hf_offline_fix_is_never_offered_when_it_would_break_startup():
    """CS101 on a Hub model without local weights has no fix: offline mode would fail every start (CS103)."""
    import json
    out = json.loads(run("--output-format", "json", "--select", "CS101", EXAMPLES).stdout)
    by_file = {f["file"].rsplit("/", 1)[-1]: f for f in out["findings"]}
    assert by_file["vllm-deployment.yaml"]["fix"] is None  # Qwen/Qwen3-8B from the Hub, nothing mounted
    assert by_file["kserve-scale-to-zero.yaml"]["fix"]["applicability"] == "safe"  # modelcar: local weights
    assert by_file["helm-rendered.yaml"]["fix"]["applicability"] == "unsafe"  # model source not shown
