"""Output formats: SARIF validated against the official 2.1.0 schema, GitHub workflow commands with
the toolkit's escaping, JUnit XML, the Markdown summary by lever, and Helm sources in CI formats."""
from __future__ import annotations

import io
import os
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cslint.engine import Linter
from cslint.model import Finding, Lever, Position, Severity
from cslint.reporters import report
from cslint.reporters.github import escape_data, escape_property
from cslint.settings import Settings
from cslint.sources import SourceText, read_source

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "fixtures" / "integrations" / "precommit" / "deploy.yaml"
HELM = ROOT / "fixtures" / "integrations" / "helm" / "rendered.yaml"
SCHEMA = Path("/work/shared/schemas/sarif-schema-2.1.0.json")
SETTINGS = Settings(select=("CS2", "CS4"))


def results_for(*sources: SourceText, settings: Settings = SETTINGS) -> list:
    return Linter(settings).lint_sources(list(sources))


def render(fmt: str, results: list, settings: Settings = SETTINGS) -> str:
    out = io.StringIO()
    report(fmt, results, settings, out)
    return out.getvalue()


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(ROOT))
    monkeypatch.chdir(ROOT)
    return results_for(read_source(str(DEPLOY.relative_to(ROOT))))


def validate_sarif(log: dict) -> None:
    if not SCHEMA.exists():
        pytest.skip("SARIF schema not present at ../shared/schemas")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)


def test_sarif_is_valid_and_exact(in_repo):
    log = json.loads(render("sarif", in_repo))
    validate_sarif(log)
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"CS401", "CS900", "CS000"} <= set(rules)
    shm = rules["CS401"]
    assert shm["name"] == "shm-too-small" and shm["defaultConfiguration"]["level"] == "error"
    assert shm["help"]["markdown"].startswith("## What it does") and shm["helpUri"].endswith("#cs401-shm-too-small")
    result = next(r for r in run["results"] if r["ruleId"] == "CS401")
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "fixtures/integrations/precommit/deploy.yaml"
    assert loc["region"]["startLine"] == 13 and loc["region"]["startColumn"] == 11
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "CS401"
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in run["results"]]
    assert len(set(hashes)) == len(hashes)


def test_sarif_clean_run_still_has_results(in_repo):
    log = json.loads(render("sarif", results_for(SourceText("x.yaml", "kind: ConfigMap\n"))))
    validate_sarif(log)
    assert log["runs"][0]["results"] == []


def test_fingerprint_survives_lines_moving():
    text = DEPLOY.read_text()
    a = json.loads(render("sarif", results_for(SourceText("d.yaml", text))))
    b = json.loads(render("sarif", results_for(SourceText("d.yaml", "# moved\n\n" + text))))
    fp = lambda log: sorted(r["partialFingerprints"]["primaryLocationLineHash"] for r in log["runs"][0]["results"])
    assert fp(a) == fp(b)


def test_github_escaping():
    assert escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    # a manifest's ESC sequence must not colour (or rewrite) the job log
    assert escape_data("name a\x1b[31mred\x07") == "name a\\x1b[31mred\\x07"
    assert escape_property("f\x1b.yaml") == "f\\x1b.yaml"


def test_github_commands(in_repo):
    lines = render("github", in_repo).splitlines()
    shm = next(line for line in lines if "CS401" in line)
    assert shm.startswith("::error file=fixtures/integrations/precommit/deploy.yaml,line=13,col=11,endLine=13,")
    assert ",title=CS401 shm-too-small::no /dev/shm mount" in shm
    assert any(line.startswith("::warning ") for line in lines)


def test_github_multi_line_region_has_no_columns():
    f = Finding("CS401", "shm-too-small", Severity.INFO, "a\nb", "x.yaml", 0, "", position=Position(3, 2, 5, 1))
    from cslint.engine import FileResult
    out = render("github", [FileResult(SourceText("x.yaml", "a: 1\n"), [], [f])])
    assert out == "::notice file=x.yaml,line=3,endLine=5,title=CS401 shm-too-small::a%0Ab\n"


def test_helm_stdin_points_at_the_template(monkeypatch):
    monkeypatch.chdir(ROOT)
    results = results_for(SourceText("<stdin>", HELM.read_text()))
    lines = render("github", results).splitlines()
    assert lines and all(line.split(",", 1)[0].endswith("file=llm/templates/deployment.yaml") for line in lines)
    assert "rendered: <stdin>:" in lines[0]
    log = json.loads(render("sarif", results))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"llm/templates/deployment.yaml"}
    # the same rendered text saved in the repository is reported where it is
    in_repo = results_for(read_source(str(HELM.relative_to(ROOT))))
    assert "file=fixtures/integrations/helm/rendered.yaml," in render("github", in_repo)


def test_junit(in_repo):
    root = ET.fromstring(render("junit", in_repo + results_for(SourceText("clean.yaml", "kind: ConfigMap\n"))))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["fixtures/integrations/precommit/deploy.yaml", "clean.yaml"]
    failures = suites[0].findall("testcase/failure")
    assert failures and int(root.get("failures")) == len(failures)
    assert suites[1].find("testcase/failure") is None


def test_junit_is_well_formed_with_control_characters_in_names_and_paths():
    """XML 1.0 cannot carry a control character even escaped: an object named `\\x08` (found by
    the hardening property) made the whole report unparseable. They are written as `\\xNN`."""
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: \"a\\bb\", namespace: ns}\n"
           "spec: {containers: [{name: vllm, image: vllm/vllm-openai:v0.14.0}]}\n")
    results = results_for(SourceText("dir\x01/pod.yaml", pod))
    root = ET.fromstring(render("junit", results))
    suite = root.find("testsuite")
    assert suite.get("name") == "dir\\x01/pod.yaml"
    texts = [f.text for f in suite.findall("testcase/failure")]
    assert texts and all("Pod/ns/a\\x08b" in t for t in texts)


def test_markdown_grouped_by_lever(in_repo):
    text = render("markdown", in_repo)
    assert text.startswith("## cslint")
    assert f"### {Lever.RUNTIME.title}" in text and f"### {Lever.IMAGE.title}" in text
    assert text.index(Lever.IMAGE.title) < text.index(f"### {Lever.RUNTIME.title}")
    assert "| 🔴 | [CS401]" in text
    assert "All checks passed" in render("markdown", results_for(SourceText("c.yaml", "kind: ConfigMap\n")))


def test_markdown_escapes_table_cells():
    from cslint.reporters.markdown import cell
    assert cell("a|b\nc") == "a\\|b c"


def test_a_file_named_with_leading_dots_is_inside_the_repository(tmp_path):
    """`..x.yaml` is a file of the repository, not a path that leaves it."""
    from cslint.reporters.locations import relative
    root = str(tmp_path)
    assert relative(str(tmp_path / "..x.yaml"), root) == ("..x.yaml", True)
    assert relative(str(tmp_path / "sub" / "...yaml"), root) == ("sub/...yaml", True)
    outside = tmp_path.parent / "other.yaml"
    assert relative(str(outside), root) == (str(outside), False)
    assert relative(str(tmp_path.parent), root) == (str(tmp_path.parent), False)


def test_text_report_escapes_control_characters_from_manifests_and_file_names():
    """An ESC sequence in an image string drove the terminal of whoever read the CI log, and a
    newline in a file name split a finding's line in two."""
    text = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: vllm\n' \
           '    image: "vllm/vllm-openai:\\e[31mred"\n    args: ["--model", "m/m"]\n'
    out = render("text", results_for(SourceText("a\nb.yaml", text), settings=Settings(select=("CS201",))),
                 Settings(select=("CS201",)))
    assert "\x1b" not in out and "\\x1b[31mred" in out
    assert out.splitlines()[0].startswith("a\\nb.yaml:7:12: CS201")


def test_source_excerpt_caret_follows_the_escapes_before_it():
    from cslint.reporters.text import source_excerpt
    text = ('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n'
            '  - {name: vllm,\timage: "vllm/vllm-openai:v0.11.0", args: ["/models/m"]}\n')
    settings = Settings(select=("CS201",))
    [f] = [f for r in Linter(settings, lines=True).lint_sources([SourceText("t.yaml", text)]) for f in r.findings]
    shown, caret = source_excerpt(f)
    assert shown[caret.index("^"):].startswith('"vllm/vllm-openai:v0.11.0"')
    assert caret.count("^") == len('"vllm/vllm-openai:v0.11.0"')


def test_statistics_counts_instead_of_listing(in_repo):
    """`--statistics` as ruff's: one line per rule, most frequent first, with its fixability,
    and the summary; no finding lines (a monorepo's 10k findings become a table)."""
    listed = render("text", in_repo)
    out = io.StringIO()
    report("text", in_repo, SETTINGS, out, statistics=True)
    table = out.getvalue().splitlines()
    findings = [f for r in in_repo for f in r.findings if not f.suppressed]
    assert findings and not any(f"{f.file}:{f.line}:" in line for f in findings for line in table)
    rows = [line.split("\t") for line in table if "\t" in line]
    counts = {row[1]: int(row[0]) for row in rows}
    assert counts == {code: sum(f.code == code for f in findings) for code in {f.code for f in findings}}
    assert [int(row[0]) for row in rows] == sorted((int(row[0]) for row in rows), reverse=True)
    assert table[-2:] == listed.splitlines()[-2:] and table[-2].startswith("Found ")


def test_statistics_marks_as_fixable_what_the_listing_marks_fixable(tmp_path):
    """[*] in the table is the listing's [*] and the legend's: fixable by `cslint --fix`. An
    unsafe fix (CS405's PVC) was marked [*] in the table and not in the listing."""
    from click.testing import CliRunner
    from cslint.cli import main
    path = tmp_path / "d.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                    "  - {name: vllm, image: vllm/vllm-openai:v0.11.0, args: [m/m]}\n")
    runner = CliRunner()
    listed = runner.invoke(main, ["check", "--isolated", str(path)]).stdout.splitlines()
    table = runner.invoke(main, ["check", "--isolated", "--statistics", str(path)]).stdout.splitlines()
    marked = {line.split(": ")[1].split()[0] for line in listed if line.endswith(" [*]")}
    starred = {row.split("\t")[1] for row in table if "\t[*] " in row}
    assert "CS405" in {row.split("\t")[1] for row in table if "\t" in row} and "CS405" not in starred
    assert starred == marked


def test_a_one_line_manifest_is_excerpted_around_each_finding_and_masked_once(tmp_path, monkeypatch):
    """Each finding of a minified manifest quoted, masked and (SARIF) normalised the whole line:
    1,000 containers on one line gave 1.9 GB of --show-source in 20 s; SARIF took 4.9 s."""
    from click.testing import CliRunner
    from cslint import masking
    from cslint.cli import main
    from cslint.reporters import sarif
    from cslint.reporters.text import EXCERPT_WIDTH
    containers = ", ".join(f'{{name: c{i}, image: "vllm/vllm-openai:latest", args: [m/m], '
                           f'env: [{{name: HF_TOKEN, value: hf_secret{i:04}}}]}}' for i in range(60))
    line = f"{{apiVersion: v1, kind: Pod, metadata: {{name: p}}, spec: {{containers: [{containers}]}}}}"
    path = tmp_path / "min.yaml"
    path.write_text(line + "\n")
    masked, original = [], masking._masked
    monkeypatch.setattr(masking, "_masked", lambda text, *a: masked.append(text == line) or original(text, *a))
    masking.mask_same_width.cache_clear()
    out = CliRunner().invoke(main, ["check", "--isolated", "--show-source", str(path)]).stdout.splitlines()
    excerpts = [(i, o) for i, o in enumerate(out) if o.startswith("    1 | ")]
    assert len(excerpts) == 540 and masked.count(True) == 1  # the line once (messages are masked too)
    for i, excerpt in excerpts:
        column = int(out[i - 1].split(":")[2])
        shown = excerpt[len("    1 | "):]
        assert len(shown) <= EXCERPT_WIDTH + 2 and "hf_secret" not in shown
        caret = out[i + 1].index("^") - len("    1 | ")
        assert shown[caret:caret + 10] == line[column - 1:column + 9].replace("hf_secret", "*********")[:10]
    sarif._spaced.cache_clear()
    assert CliRunner().invoke(main, ["check", "--isolated", "--output-format", "sarif", str(path)]).exit_code == 1
    assert sarif._spaced.cache_info().misses == 1


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit", "markdown"])
def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(tmp_path, monkeypatch, fmt):
    """A name with bytes that are not UTF-8 comes back from the directory walk with surrogate
    escapes: SARIF's URI and fingerprint encoded it strictly and the run was an internal error.
    The URI percent-encodes the name's bytes, inside the repository and outside it."""
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo")
    for where in (tmp_path / "repo", tmp_path):
        path = os.path.join(os.fsencode(where), b"bad\xff.yaml")
        with open(path, "wb") as fh:
            fh.write(DEPLOY.read_bytes())
        out = render(fmt, results_for(read_source(os.fsdecode(path))))
        if fmt == "sarif":
            uri = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert uri == ("bad%FF.yaml" if where == tmp_path / "repo" else (tmp_path / "x").as_uri()[:-1] + "bad%FF.yaml")
