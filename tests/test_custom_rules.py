"""Custom declarative rules: every `require` kind at every scope over the serving kinds, the three
house rules of issue 9 end to end (CLI, suppression, --fix, SARIF, webhook), config errors, and
the built-in CS402 expressed in the same form."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonpatch
import jsonpointer
import pytest
import yaml
from hypothesis import given, settings as hsettings, strategies as st
from fuzzing import examples

import cslint.custom_rules  # noqa: F401  registers the provider
from cslint.config import ConfigError
from cslint.custom_rules import parse_custom_rules
from cslint.declarative_parse import parse_declaration
from cslint.engine import Linter
from cslint.model import Applicability, Scope
from cslint.registry import active_rules, get_rule
from cslint.selectors import JsonPathSelector, ScopeNode
from cslint.settings import Settings
from cslint.sources import SourceText, read_source
from cslint.workloads import K8sObject, iter_objects

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "custom"
MATRIX = FIXTURES / "matrix"
HOUSE = FIXTURES / "house"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)\s*$")


def settings_for(rules: list, source: str = "test.yaml", **changes) -> Settings:
    changes.setdefault("select", ("T",))
    return Settings(extra=(("custom_rules", rules), ("custom_rules_source", source)), **changes)


def lint_text(text: str, settings: Settings):
    return Linter(settings).lint_sources([SourceText("m.yaml", text)])[0].findings


def expected(path: Path) -> set[tuple[int, str]]:
    out = set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = _EXPECT.search(line)
        if m:
            out |= {(number, code.strip()) for code in m.group(1).split(",")}
    return out


def container_rule(**decl) -> list:
    return [{"code": "T101", "name": "t", "scope": "container", "message": "{value} at {path}", **decl}]


POD = """apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ml, labels: {app: chat}}
spec:
  containers:
    - name: vllm
      image: vllm/vllm-openai:v0.11.0
"""


# -- the matrix: each require kind at each scope, over four serving kinds ----------------------
@pytest.mark.parametrize("name", ["deployment", "inferenceservice", "leaderworkerset", "rayservice"])
def test_matrix_findings_are_where_the_fixture_says(name: str) -> None:
    rules = yaml.safe_load((MATRIX / "cslint.yaml").read_text())["rules"]
    path = MATRIX / f"{name}.yaml"
    s = settings_for(rules, select=("DOC", "POD", "CTR"))
    found = {(f.line, f.code) for f in Linter(s).lint_sources([read_source(str(path))])[0].findings}
    assert found == expected(path)


def test_matrix_declares_every_requirement_at_every_scope_and_all_fire() -> None:
    rules = parse_custom_rules(yaml.safe_load((MATRIX / "cslint.yaml").read_text())["rules"], "matrix")
    scopes = {Scope.OBJECT: "DOC", Scope.WORKLOAD: "POD", Scope.CONTAINER: "CTR"}
    assert {r.code[:3] for r in rules} == set(scopes.values())
    assert all(r.code.startswith(scopes[r.meta.scope]) for r in rules)
    fired = set().union(*({c for _, c in expected(MATRIX / f"{n}.yaml")} for n in
                          ("deployment", "inferenceservice", "leaderworkerset", "rayservice")))
    assert fired == {r.code for r in rules}


# -- selection: JSONPath matches become JSON pointers that resolve to the same value -----------
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(alphabet="ab/~.'", max_size=3), inner, max_size=3), max_leaves=12)


@hsettings(max_examples=examples(150), deadline=None)
@given(st.dictionaries(st.text(alphabet="ab/~", max_size=3), _json, max_size=4))
def test_every_match_pointer_resolves_to_the_matched_value(data: dict) -> None:
    node = ScopeNode(data, "/spec", K8sObject({}, ""))
    for text in ("$..*", "$..[*]", "$.*[-1]"):
        for sel in JsonPathSelector(text).select(node).found:
            assert sel.path.startswith("/spec")
            resolved = jsonpointer.resolve_pointer(data, sel.path[len("/spec"):])
            # a character of a string has no pointer: such a match anchors at the scope's node
            assert resolved == sel.value or (sel.path == "/spec" and isinstance(sel.value, str))


def test_a_missing_concrete_path_is_still_a_pointer_and_set_creates_its_parents() -> None:
    rules = container_rule(select="$.resources.limits['nvidia.com/gpu']", require="exists",
                           fix={"set": 1, "safe": True})
    [f] = lint_text(POD, settings_for(rules))
    assert f.path == "/spec/containers/0/resources/limits/nvidia.com~1gpu"
    assert (f.line, f.column) == (6, 7)  # the nearest existing parent: the container
    patched = jsonpatch.apply_patch(yaml.safe_load(POD), list(f.fix.operations))
    assert patched["spec"]["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": 1}}


def test_quantities_are_compared_exactly() -> None:
    rules = container_rule(select="$.resources.limits.memory", require={"min": "16Gi"})
    for value, fires in (("16Gi", False), ("17179869184", False), ("17179869183", True), ("16G", True),
                         ("0.015625Ti", False), ("lots", True)):
        text = POD + f"      resources: {{limits: {{memory: {value}}}}}\n"
        assert bool(lint_text(text, settings_for(rules))) is fires, value


def test_env_values_only_the_cluster_knows_pass() -> None:
    rules = container_rule(env="HF_HUB_OFFLINE", require={"equals": "1"})
    assert len(lint_text(POD, settings_for(rules))) == 1
    from_secret = POD + "      env: [{name: HF_HUB_OFFLINE, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n"
    assert lint_text(from_secret, settings_for(rules)) == []
    assert lint_text(POD + "      envFrom: [{configMapRef: {name: c}}]\n", settings_for(rules)) == []


def test_absent_arg_is_removed_from_a_shell_string() -> None:
    rules = container_rule(arg="--enforce-eager", require="absent", fix={"remove": True, "safe": False})
    text = POD + '      command: ["sh", "-c", "vllm serve /m --enforce-eager --port 8000"]\n'
    [f] = lint_text(text, settings_for(rules))
    assert f.fix.applicability == Applicability.UNSAFE
    after = jsonpatch.apply_patch(yaml.safe_load(text), list(f.fix.operations))
    assert after["spec"]["containers"][0]["command"][2] == "vllm serve /m --port 8000"


@pytest.mark.parametrize("match, fires", [
    ({"namespaces": ["ml"]}, True), ({"namespaces": ["prod"]}, False),
    ({"labels": {"app": "chat"}}, True), ({"labels": {"app": "batch"}}, False),
    ({"selector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["chat"]}]}}, False),
    ({"selector": {"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}}, True),
    ({"when": [{"object": "$.metadata.name", "matches": "p"}]}, True),
    ({"when": [{"pod": "$.nodeSelector"}]}, False),
    ({"kinds": ["Deployment"]}, False), ({"engine": True}, True),
])
def test_match_narrows_where_a_rule_applies(match: dict, fires: bool) -> None:
    rules = container_rule(select="$.imagePullPolicy", require="exists", match=match)
    assert bool(lint_text(POD, settings_for(rules))) is fires


def test_declared_rules_join_the_default_selection_only() -> None:
    rules = container_rule(select="$.imagePullPolicy", require="exists")
    active = lambda s: {r.code for rs in active_rules(s).values() for r in rs}  # noqa: E731
    assert "T101" in active(settings_for(rules, select=Settings().select))
    assert "T101" not in active(settings_for(rules, select=("CS4",)))
    assert "T101" in active(settings_for(rules, select=("CS4",), extend_select=("T",)))
    assert "T101" not in active(settings_for(rules, ignore=("T1",)))


# -- CS402 is a declaration: it must behave exactly as the Python rule it replaced -------------
def _cs402_python(c):
    """The original rules/cs402_nccl_cumem.py check, kept as the oracle."""
    from cslint.patches import set_env_ops
    entry = c.env.get("NCCL_CUMEM_ENABLE")
    if entry is not None and (entry[1] is None or entry[1].strip() == "0"):
        return []
    if entry is None and c.has_env_from:
        return []
    ops = tuple(set_env_ops(c, {"NCCL_CUMEM_ENABLE": "0"}))
    if entry is None:
        return [('NCCL_CUMEM_ENABLE is not set: NCCL init can hang in containers — set NCCL_CUMEM_ENABLE: "0"',
                 c.at("env") if "env" in c.data else c.pointer, ops)]
    return [(f'NCCL_CUMEM_ENABLE is {entry[1]!r}: NCCL init can hang in containers — set it to "0"',
             c.at("env", entry[0], "value"), ops)]


_env_item = st.fixed_dictionaries({"name": st.sampled_from(["NCCL_CUMEM_ENABLE", "OTHER"])}, optional={
    "value": st.one_of(st.sampled_from(["0", " 0 ", "1", "", "00", "0\n"]), st.integers(0, 2)),
    "valueFrom": st.just({"secretKeyRef": {"name": "s", "key": "k"}})})


@hsettings(max_examples=examples(200), deadline=None)
@given(st.one_of(st.none(), st.lists(_env_item, max_size=3)), st.booleans())
def test_cs402_declaration_matches_the_python_rule(env, env_from) -> None:
    from cslint.rules.cs402_nccl_cumem import check
    container = {"name": "vllm", "image": "vllm/vllm-openai:v0.11.0"}
    if env is not None:
        container["env"] = env
    if env_from:
        container["envFrom"] = [{"configMapRef": {"name": "c"}}]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [container]}}
    [c] = next(iter_objects(pod)).templates[0].containers
    got = [(v.message, v.path, v.fix.operations) for v in check(c, Settings())]
    assert got == _cs402_python(c)
    meta = get_rule("CS402").meta
    assert (meta.engine_only, meta.gpu_only, meta.fix.value, meta.summary) == (True, True, "always",
                                                                               "NCCL_CUMEM_ENABLE=0 is not set")


# -- the three house rules, end to end through the CLI ----------------------------------------
@pytest.fixture()
def house(tmp_path: Path) -> Path:
    (tmp_path / ".cslint.yaml").write_text((HOUSE / "cslint.yaml").read_text())
    (tmp_path / "manifests.yaml").write_text((HOUSE / "manifests.yaml").read_text())
    return tmp_path


def cslint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cslint", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_house_rules_report_with_positions_and_honour_the_annotation(house: Path) -> None:
    run = cslint(house, "--output-format", "json", "manifests.yaml")
    assert run.returncode == 1, run.stderr
    findings = [(f["code"], f["line"], f["column"], f["object"]["name"]) for f in json.loads(run.stdout)["findings"]]
    assert sorted(findings) == [("X101", 10, 5, "chat"),  # priorityClassName is missing: the pod spec
                                ("X102", 43, 16, "models"),
                                ("X103", 16, 74, "chat")]  # the word 65536 inside the sh -c string
    # `batch` breaks X101 too, but carries cslint.io/ignore: "X101 -- batch tier, ..."
    run = cslint(house, "--output-format", "json", "--disallow-suppressions", "manifests.yaml")
    assert ("X101", 30, 26, "batch") in [(f["code"], f["line"], f["column"], f["object"]["name"])
                                         for f in json.loads(run.stdout)["findings"]]


def test_house_fix_applies_safe_patches_and_unsafe_only_when_asked(house: Path) -> None:
    run = cslint(house, "--fix", "manifests.yaml")
    assert run.returncode == 1  # X102's fix is unsafe: still reported
    assert (house / "manifests.yaml").read_text() == (HOUSE / "manifests.fixed.yaml").read_text()
    run = cslint(house, "--fix", "--unsafe-fixes", "manifests.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "accessModes: [ReadOnlyMany]" in (house / "manifests.yaml").read_text()


def test_house_rule_docs_and_listing(house: Path) -> None:
    run = cslint(house, "rule", "X101")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# engine-priority-class (X101)")
    assert "Without it a waking engine queues behind batch pods" in run.stdout
    assert "`$.priorityClassName` must equal `llm-serving`" in run.stdout
    assert re.search(r"^X103\s+l4-max-model-len", cslint(house, "rules").stdout, re.M)


def test_house_rules_in_sarif(house: Path) -> None:
    run = cslint(house, "--output-format", "sarif", "manifests.yaml")
    sarif = json.loads(run.stdout)["runs"][0]
    rules = {r["id"]: r for r in sarif["tool"]["driver"]["rules"]}
    x101 = rules["X101"]
    assert x101["name"] == "engine-priority-class"
    assert x101["defaultConfiguration"]["level"] == "error"
    assert "llm-serving" in x101["shortDescription"]["text"]
    assert "## Declaration" in x101["help"]["markdown"]
    located = {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in sarif["results"]}
    assert located == {"X101": 10, "X102": 43, "X103": 16}


def test_house_rules_in_the_webhook(house: Path) -> None:
    pytest.importorskip("starlette")
    from cslint.config import load_settings
    from cslint.webhook.admission import Admission, review_for
    from cslint.webhook.policy import WebhookPolicy
    settings, _ = load_settings(str(house / ".cslint.yaml"))
    chat = yaml.safe_load((HOUSE / "manifests.yaml").read_text().split("---")[0])
    admission = Admission(settings, WebhookPolicy())
    verdict = admission.validate(review_for(chat)).review["response"]
    assert verdict["allowed"] is False
    assert "X101" in verdict["status"]["message"] and "X103" in verdict["status"]["message"]
    ops, fixed = admission.plan_patch(chat)
    patched = jsonpatch.apply_patch(chat, ops)
    assert {f.code for f in fixed} == {"X101", "X103"}
    assert patched["spec"]["template"]["spec"]["priorityClassName"] == "llm-serving"
    assert "--max-model-len 32768" in patched["spec"]["template"]["spec"]["containers"][0]["command"][2]


# -- invalid declarations are configuration errors naming the rule and the key ------------------
BASE = {"code": "X201", "name": "r", "select": "$.a", "require": "exists", "message": "m"}


@pytest.mark.parametrize("change, key, words", [
    ({"select": "$.a[?(@.b =="}, "select", "invalid JSONPath"),
    ({"require": {"at-most": 3}}, "require", "unknown requirement 'at-most'"),
    ({"require": {"matches": "(unclosed"}}, "require.matches", "invalid regular expression"),
    ({"require": {"min": "lots"}}, "require.min", "quantity"),
    ({"code": "CS999"}, "code", "reserved"),
    ({"code": "X12"}, "code", "three digits"),
    ({"name": "Not Kebab"}, "name", "kebab-case"),
    ({"message": "{value.__class__}"}, "message", "unknown placeholder"),
    ({"arg": "--max-model-len", "select": None, "scope": "pod"}, "scope", "use scope: container"),
    ({"fix": {"set": 1}}, "fix.safe", "required"),
    ({"severity": "fatal"}, "severity", "expected error, warning or info"),
    ({"match": {"kind": ["Deployment"]}}, "match.kind", "unknown key"),
    ({"lever": "speed"}, "lever", "expected one of"),
])
def test_invalid_rules_name_the_rule_and_the_key(change: dict, key: str, words: str) -> None:
    rule = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(ConfigError) as err:
        parse_custom_rules([dict(BASE, code="X200", name="ok"), rule], "team/.cslint.yaml")
    code = rule["code"]
    assert str(err.value).startswith(f"team/.cslint.yaml: rules[1] (code {code}): {key}: ")
    assert words in str(err.value)


def test_colliding_codes_and_names_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"rules\[1\] \(code X201\): code: X201 is already used by rules\[0\]"):
        parse_custom_rules([BASE, dict(BASE, name="other")], "c.yaml")
    with pytest.raises(ConfigError, match=r"name: nccl-cumem-enabled is already used by built-in rule CS402"):
        parse_custom_rules([dict(BASE, name="nccl-cumem-enabled")], "c.yaml")


def test_a_bad_rule_in_the_config_file_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / ".cslint.yaml").write_text("rules:\n  - {code: X101, name: a, select: '$.[', "
                                          "require: exists, message: m}\n")
    (tmp_path / "m.yaml").write_text(POD)
    run = cslint(tmp_path, "m.yaml")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "rules[0] (code X101): select: invalid JSONPath" in run.stderr


def test_builtin_declarations_reject_custom_codes() -> None:
    with pytest.raises(ValueError, match="code: built-in codes are CS"):
        parse_declaration(BASE, builtin=True)
