"""Schema validation of built-in kinds: every error, with its path; custom resources skipped."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import yaml

pytest.importorskip("kubernetes_validate")

from cslint import schema  # noqa: E402
from cslint.schema import SchemaError, resolve_version, validate_object  # noqa: E402


def manifest(text: str) -> dict:
    return yaml.safe_load(textwrap.dedent(text))


DEPLOYMENT = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: vllm
      labels: {app: vllm}
    spec:
      replicas: 1
      selector:
        matchLabels: {app: vllm}
      template:
        metadata:
          labels: {app: vllm}
        spec:
          containers:
            - name: vllm
              image: vllm/vllm-openai:v0.13.5
              args: ["--model", "meta-llama/Llama-3.1-8B-Instruct"]
              ports: [{containerPort: 8000}]
              resources:
                limits: {nvidia.com/gpu: "1", memory: 32Gi}
"""

DEPLOYMENT_WITH_TWO_TYPE_ERRORS = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: vllm}
    spec:
      replicas: three                        # 'three' is not of type 'integer'
      selector:
        matchLabels: {app: vllm}
      template:
        metadata:
          labels: {app: vllm}
        spec:
          containers: x                      # 'x' is not of type 'array'
"""


@pytest.fixture
def deployment() -> dict:
    return manifest(DEPLOYMENT)


def bundled_versions() -> list[str]:
    from kubernetes_validate.utils import all_versions

    return [".".join(v.split(".")[:2]) for v in all_versions()]


# --- valid and invalid built-in kinds --------------------------------------------------------


def test_valid_deployment_has_no_errors(deployment):
    assert validate_object(deployment) == []


def test_every_error_is_reported_with_its_path():
    errors = validate_object(manifest(DEPLOYMENT_WITH_TWO_TYPE_ERRORS))
    assert errors == [
        SchemaError(("spec", "replicas"), "spec.replicas: 'three' is not of type 'integer'"),
        SchemaError(
            ("spec", "template", "spec", "containers"),
            "spec.template.spec.containers: 'x' is not of type 'array'",
        ),
    ]


VALID_OTHER_KINDS = {
    "service": """\
        apiVersion: v1
        kind: Service
        metadata: {name: vllm}
        spec:
          selector: {app: vllm}
          ports: [{name: http, port: 80, targetPort: 8000}]
    """,
    "configmap": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: vllm-config}
        data: {MAX_MODEL_LEN: "8192"}
    """,
    "priorityclass": """\
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata: {name: inference-high}
        value: 1000000
        preemptionPolicy: PreemptLowerPriority
    """,
    "pod": """\
        apiVersion: v1
        kind: Pod
        metadata: {name: vllm}
        spec:
          containers: [{name: vllm, image: vllm/vllm-openai:v0.13.5}]
    """,
}


@pytest.mark.parametrize("name", VALID_OTHER_KINDS)
def test_other_built_in_kinds_validate(name):
    assert validate_object(manifest(VALID_OTHER_KINDS[name])) == []


INVALID_OTHER_KINDS = {
    "service": (
        """\
        apiVersion: v1
        kind: Service
        metadata: {name: vllm}
        spec:
          ports: [{port: http}]               # the port number, not its name
        """,
        ("spec", "ports", 0, "port"),
    ),
    "configmap": (
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: vllm-config}
        data: {MAX_MODEL_LEN: 8192}            # ConfigMap values are strings
        """,
        ("data", "MAX_MODEL_LEN"),
    ),
    "priorityclass": (
        """\
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata: {name: inference-high}
        value: high                           # an integer
        """,
        ("value",),
    ),
    "pod": (
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: vllm}
        spec: {}                              # 'containers' is a required property
        """,
        ("spec",),
    ),
}


@pytest.mark.parametrize("name", INVALID_OTHER_KINDS)
def test_other_built_in_kinds_use_their_own_schema(name):
    text, path = INVALID_OTHER_KINDS[name]
    errors = validate_object(manifest(text))
    assert [e.path for e in errors] == [path]


def test_kind_in_the_wrong_case_is_an_error_not_a_skip():
    pod = manifest(VALID_OTHER_KINDS["pod"]) | {"kind": "pod"}
    [error] = validate_object(pod)
    assert error == SchemaError(("kind",), "kind: 'pod' is not one of ['Pod']")


# --- what is not checked ---------------------------------------------------------------------


def test_custom_resource_is_skipped():
    isvc = manifest("""\
        apiVersion: serving.kserve.io/v1beta1
        kind: InferenceService
        metadata: {name: llama}
        spec: {predictor: {model: {modelFormat: {name: huggingface}}}}
    """)
    assert validate_object(isvc) is None


def test_custom_group_sharing_a_built_in_prefix_is_skipped():
    # `apps.example.com/v1` maps to the same file name as `apps/v1`.
    crd = {"apiVersion": "apps.example.com/v1", "kind": "Deployment", "spec": {"replicas": "x"}}
    assert validate_object(crd) is None


def test_helper_type_is_not_a_kind():
    assert validate_object({"apiVersion": "v1", "kind": "Affinity"}) is None


@pytest.mark.parametrize(
    "obj",
    [None, "kind: Pod", ["apiVersion", "v1"], 42],
    ids=["none", "string", "list", "int"],
)
def test_non_dict_input_is_skipped(obj):
    assert validate_object(obj) is None


@pytest.mark.parametrize(
    "obj",
    [
        {"kind": "Pod", "spec": {}},
        {"apiVersion": "v1", "spec": {}},
        {"apiVersion": "v1", "kind": 5},
        {"apiVersion": "../../v1", "kind": "Pod"},
        {"apiVersion": "v1", "kind": "../Pod"},
    ],
    ids=["no-apiversion", "no-kind", "kind-not-string", "apiversion-path", "kind-path"],
)
def test_object_without_usable_kind_is_skipped(obj):
    assert validate_object(obj) is None


# --- Kubernetes versions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "expected"),
    [("1.30", "1.30"), ("v1.30.2", "1.30"), ("1.30.2-gke.1079000", "1.30"), (" v1.31 ", "1.31")],
)
def test_version_prefix_and_patch_are_ignored(requested, expected):
    assert resolve_version(requested) == expected


def test_version_newer_than_bundled_uses_newest():
    assert resolve_version("1.99") == bundled_versions()[-1]


def test_version_older_than_bundled_uses_oldest():
    assert resolve_version("1.10") == bundled_versions()[0]


def test_minor_versions_compare_as_numbers():
    assert resolve_version("1.100") == bundled_versions()[-1]


@pytest.mark.parametrize("version", ["v1.30.2", "1.99", "1.10"])
def test_validation_works_at_any_version(deployment, version):
    assert validate_object(deployment, version) == []
    assert len(validate_object(manifest(DEPLOYMENT_WITH_TWO_TYPE_ERRORS), version)) == 2


def test_unparsable_version_is_an_error(deployment):
    with pytest.raises(ValueError, match="not a Kubernetes version"):
        validate_object(deployment, "latest")


def test_float_version_is_refused(deployment):
    # An unquoted `kubernetes-version: 1.30` in YAML is the float 1.3.
    with pytest.raises(TypeError, match="must be a string"):
        validate_object(deployment, 1.3)


# --- strict mode, null tolerance, messages ---------------------------------------------------


def test_unknown_field_fails_only_in_strict_mode(deployment):
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    assert validate_object(deployment) == []
    assert validate_object(deployment, strict=True) == [
        SchemaError(
            ("spec", "template", "spec", "containers", 0),
            "spec.template.spec.containers[0]: unknown field 'imagePullPolice'",
        )
    ]


def test_null_is_accepted_everywhere(deployment):
    # The bundled schemas make every type null-tolerant; int-or-string fields included.
    deployment["spec"]["replicas"] = None
    deployment["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": None}}
    assert validate_object(deployment) == []


def test_huge_values_are_shortened_in_messages(deployment):
    deployment["spec"]["template"]["spec"]["containers"][0]["args"] = "--model " + "x" * 5000
    [error] = validate_object(deployment)
    assert error.path == ("spec", "template", "spec", "containers", 0, "args")
    assert "\n" not in error.message
    assert len(error.message) < 200
    assert error.message.endswith("is not of type 'array'")


def test_values_json_cannot_hold_are_type_errors(deployment):
    # A YAML timestamp is a datetime.date, which the compiled backend cannot take.
    deployment["metadata"]["annotations"] = manifest("released: 2025-01-31")
    [error] = validate_object(deployment)
    assert error.path == ("metadata", "annotations", "released")
    assert error.message.endswith("is not of type 'string'")


def test_non_string_keys_do_not_break_validation(deployment):
    # JSON has only string keys; the API server sees `1.5` and `true` as "1.5" and "true".
    deployment["metadata"]["labels"] = manifest("{1.5: a, true: b, tier: c}")
    assert validate_object(deployment, strict=True) == []


# --- design constraints ----------------------------------------------------------------------


def test_import_loads_no_schema_library():
    code = (
        "import sys, cslint.schema; "
        "print(sorted(m for m in ('jsonschema', 'jsonschema_rs', 'referencing', 'kubernetes_validate')"
        " if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_kubernetes_validate_is_only_a_data_source(monkeypatch, deployment):
    import kubernetes_validate

    def refuse(*args, **kwargs):
        raise AssertionError("kubernetes_validate.validate() rebuilds its validator on every call")

    monkeypatch.setattr(kubernetes_validate, "validate", refuse)
    monkeypatch.setattr(kubernetes_validate.utils, "validate", refuse)
    assert validate_object(deployment) == []


POD_WITH_ONE_ERROR_OF_EACH_KIND = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: vllm, labelz: {}}        # unknown field 'labelz' (strict)
    spec:
      restartPolicy: 5                        # 5 is not of type 'string'
      containers:
        - image: vllm/vllm-openai:v0.13.5      # 'name' is a required property
          ports: [{containerPort: http}]      # 'http' is not of type 'integer'
          resources:
            limits: {cpu: [1]}                # [1] is not valid under any of the given schemas
"""


def test_error_of_each_kind_has_a_one_line_message():
    errors = validate_object(manifest(POD_WITH_ONE_ERROR_OF_EACH_KIND), strict=True)
    assert [e.message for e in errors] == [
        "metadata: unknown field 'labelz'",
        "spec.containers[0]: 'name' is a required property",
        "spec.containers[0].ports[0].containerPort: 'http' is not of type 'integer'",
        "spec.containers[0].resources.limits.cpu: [1] is not valid under any of the given schemas",
        "spec.restartPolicy: 5 is not of type 'string'",
    ]


@pytest.mark.parametrize("text", [DEPLOYMENT_WITH_TWO_TYPE_ERRORS, POD_WITH_ONE_ERROR_OF_EACH_KIND])
def test_python_backend_reports_the_same_errors(monkeypatch, text):
    pytest.importorskip("jsonschema_rs")
    expected = validate_object(manifest(text), strict=True)
    monkeypatch.setitem(sys.modules, "jsonschema_rs", None)  # import now fails
    schema._validator.cache_clear()
    try:
        obj = manifest(text)
        assert schema._validator("1.33", True, obj["apiVersion"], obj["kind"]).rs_validator is None
        assert validate_object(obj, strict=True) == expected
    finally:
        schema._validator.cache_clear()


def test_the_definition_index_decodes_what_json_does_in_every_bundled_schema_dir():
    """The lazy index (one definition decoded when a schema reaches it) must give the data a whole
    `json.loads` gives, for every version and strictness kubernetes-validate bundles."""
    import json

    root = schema._schema_root()
    dirs = sorted(d for d in os.listdir(root) if d.endswith("-local") or d.endswith("-local-strict"))
    assert len(dirs) >= 2
    for name in dirs:
        text = (root / name / "_definitions.json").read_text(encoding="utf-8")
        whole = json.loads(text)
        index = schema._DefinitionIndex(text)
        assert index._starts.keys() == whole["$defs"].keys(), name  # indexed, not decoded whole
        assert index.top == {k: v for k, v in whole.items() if k != "$defs"}, name
        assert all(index.get(k) == v for k, v in whole["$defs"].items()), name
        assert "no.such.Definition" not in index and index.get("no.such.Definition") is None


@pytest.mark.parametrize("layout", ["compact", "indented by four", "defs last"])
def test_a_definitions_file_laid_out_otherwise_is_still_read_right(layout):
    """Another layout is decoded whole (compact, four spaces) or indexed where it allows (defs last)."""
    import json

    whole = {"$defs": {"a.B": {"type": "object", "properties": {"c": {"$ref": "#/$defs/a.C"}}},
                       "a.C": {"type": "string"}},
             "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema.DEFINITIONS_URI}
    if layout == "compact":
        text = json.dumps(whole)
    elif layout == "indented by four":
        text = json.dumps(whole, indent=4)
    else:
        text = json.dumps({k: whole[k] for k in ("$schema", "$id", "$defs")}, indent=2)
    index = schema._DefinitionIndex(text)
    assert index.get("a.B") == whole["$defs"]["a.B"] and index.get("a.C") == {"type": "string"}
    assert index.top["$id"] == schema.DEFINITIONS_URI and "a.C" in index and "a.D" not in index


def test_a_kind_is_compiled_against_only_the_definitions_it_reaches(deployment, monkeypatch):
    """A one-file run decodes the ~110 definitions a Deployment reaches, not the file's ~700."""
    schema._definition_index.cache_clear()
    schema._validator.cache_clear()
    try:
        assert validate_object(deployment) == []
        index = schema._definition_index(resolve_version("1.33"), False)
        assert 50 < len(index._defs) < len(index._starts) / 3
        broken = {**deployment, "spec": {**deployment["spec"], "replicas": "three"}}
        assert [e.path for e in validate_object(broken)] == [("spec", "replicas")]
    finally:
        schema._definition_index.cache_clear()
        schema._validator.cache_clear()
