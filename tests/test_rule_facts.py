"""Rules against the cited facts they encode (shared/reference/domain.md): messages, fix
applicability and the cases an audit against the reference found wrong."""
from __future__ import annotations

import textwrap

from cslint.engine import Linter
from cslint.model import Applicability
from cslint.settings import Settings
from cslint.sources import SourceText


def findings(text: str, *codes: str, **settings) -> list:
    results = Linter(Settings(select=codes, **settings)).lint_sources([SourceText("t.yaml", textwrap.dedent(text))])
    return [f for r in results for f in r.findings]


def pod(args: str, env: str = "[]") -> str:
    return f"""\
        apiVersion: v1
        kind: Pod
        metadata: {{name: p}}
        spec:
          containers:
            - name: vllm
              image: vllm/vllm-openai:v0.11.0
              args: {args}
              env: {env}
        """


def test_transformers_offline_is_an_alias_huggingface_hub_reads():
    """§1.7: HF_HUB_OFFLINE = _is_true(HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    assert findings(pod('["/models/m"]', '[{name: TRANSFORMERS_OFFLINE, value: "1"}]'), "CS101") == []
    offline_by_alias = findings(pod('["Qwen/Qwen3-8B"]', '[{name: TRANSFORMERS_OFFLINE, value: "1"}]'), "CS103")
    assert [f.message.split(" but ")[0] for f in offline_by_alias] == [
        "Hugging Face offline mode is on (TRANSFORMERS_OFFLINE=1)"]
    zero_wins = findings(pod('["/models/m"]', '[{name: HF_HUB_OFFLINE, value: "0"}, {name: TRANSFORMERS_OFFLINE, value: "1"}]'),
                         "CS101", "CS103")
    assert [f.message.split(":")[0] for f in zero_wins] == ["HF_HUB_OFFLINE is '0' (it wins over TRANSFORMERS_OFFLINE)"]


def test_hub_offline_alone_asks_only_for_the_alias_and_fixes_only_it():
    [f] = findings(pod('["Qwen/Qwen3-8B"]', '[{name: HF_HUB_OFFLINE, value: "true"}]'), "CS101")
    assert f.message.startswith("TRANSFORMERS_OFFLINE is not set: huggingface_hub is offline")
    assert "every start asks" not in f.message
    assert f.fix.applicability is Applicability.SAFE  # the Hub is offline already: nothing new is forbidden
    assert [op["value"] for op in f.fix.operations] == [{"name": "TRANSFORMERS_OFFLINE", "value": "1"}]


def test_a_kserve_hf_storage_uri_is_fetched_by_the_initializer_not_the_engine():
    text = """\
        apiVersion: serving.kserve.io/v1beta1
        kind: InferenceService
        metadata: {name: llama}
        spec:
          predictor:
            model:
              modelFormat: {name: huggingface}
              storageUri: hf://meta-llama/Llama-3.1-8B-Instruct
              args: ["--backend=vllm"]
              env: [{name: HF_HUB_OFFLINE, value: "1"}, {name: TRANSFORMERS_OFFLINE, value: "1"}]
        """
    found = findings(text, "CS102", "CS103")
    assert [f.code for f in found] == ["CS102"]
    assert "storage initializer" in found[0].message and "oci://" in found[0].message


def test_gpu_memory_fix_is_unsafe_when_a_config_file_may_set_the_value():
    """§1.3: the command line beats the file, so adding the flag overrides what the file sets."""
    [with_file] = findings(pod('["/models/m", "--config", "/etc/vllm/c.yaml"]'), "CS403")
    assert with_file.fix.applicability is Applicability.UNSAFE and "unless the --config file sets it" in with_file.message
    [ignored_file] = findings(pod('["/models/m", "--config=/etc/vllm/c.yaml"]'), "CS403")  # vLLM ignores this form
    assert ignored_file.fix.applicability is Applicability.SAFE and "--config" not in ignored_file.message
    [plain] = findings(pod('["/models/m"]'), "CS403")
    assert plain.fix.applicability is Applicability.SAFE


def test_eager_engines_need_no_compile_cache():
    assert findings(pod('["/models/m", "--enforce-eager"]'), "CS405") == []
    assert [f.code for f in findings(pod('["/models/m"]'), "CS405")] == ["CS405"]


def test_the_alias_set_by_valuefrom_or_envfrom_is_not_guessed_nor_overwritten():
    """A `valueFrom` TRANSFORMERS_OFFLINE was reported as "is None" and its safe fix replaced the
    ConfigMap reference with a literal; under `envFrom` the fix overrode what the ConfigMap sets."""
    value_from = ('[{name: HF_HUB_OFFLINE, value: "1"}, '
                  '{name: TRANSFORMERS_OFFLINE, valueFrom: {configMapKeyRef: {name: cm, key: tf}}}]')
    assert findings(pod('["/models/m"]', value_from), "CS101") == []
    env_from = pod('["/models/m"]', '[{name: HF_HUB_OFFLINE, value: "1"}]') + "      envFrom: [{configMapRef: {name: hf}}]\n"
    assert findings(env_from, "CS101") == []


def test_cs101_does_not_claim_a_hub_lookup_for_a_model_given_as_a_local_directory():
    """A local directory loads without the Hub (a corpus audit found 'every start asks the Hub'
    on `--model /models/DeepSeek-R1` from a PVC); a Hub id still does ask."""
    [local] = findings(pod('["--model", "/models/DeepSeek-R1"]'), "CS101")
    assert "the model is a local path, so its weights load without the Hub" in local.message
    assert "every start asks" not in local.message and local.fix.applicability == Applicability.SAFE
    [hub] = findings(pod('["Qwen/Qwen3-8B"]'), "CS101")
    assert "every start asks the Hugging Face Hub before loading" in hub.message


def test_cs203_google_multi_regions_hold_google_regions_only():
    """`us-docker.pkg.dev` serves us-central1 but not AWS's us-east-1: containment went by the
    spelling (a corpus audit: eu-west-1 was outside `eu.gcr.io`, us-east-1 inside `us`)."""
    from cslint.registries import registry_location
    us, eu = registry_location("us-docker.pkg.dev"), registry_location("eu.gcr.io")
    assert us.serves("us-central1") and not us.serves("us-east-1") and not us.serves("us-gov-west-1")
    assert eu.serves("europe-west4") and not eu.serves("eu-west-1")
    text = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - {name: a, image: "us-docker.pkg.dev/p/r/engine:1"}
        """
    [found] = findings(text, "CS203", region="us-east-1")
    assert found.message.endswith("mirror it to an ECR repository in us-east-1")
    assert [f.message.rsplit(" — ", 1)[1] for f in findings(text, "CS203", region="eastus")] == [
        "mirror it to an ACR repository in eastus"]


def test_cs506_says_an_unset_deadline_has_no_margin_rather_than_that_it_is_below_the_budget():
    """Knative's default (600 s) equals the default budget: 'below' was false (an audit)."""
    text = """\
        apiVersion: serving.knative.dev/v1
        kind: Service
        metadata: {name: s}
        spec:
          template:
            spec:
              containers:
                - {name: vllm, image: "vllm/vllm-openai:v0.11.0", args: ["/models/m"]}
        """
    [unset] = findings(text, "CS506")
    assert "is unset (600s default), no margin over the 600s cold-start budget:" in unset.message
    assert "below" not in unset.message
    short = text.replace("  template:\n", "  template:\n            metadata:\n              annotations: "
                                            "{serving.knative.dev/progress-deadline: 300s}\n")
    [found] = findings(short, "CS506")
    assert "is 300s, below the 600s cold-start budget:" in found.message


def test_ray_serve_llm_engine_kwargs_keep_their_offsets_in_the_serve_config():
    from cslint.rayserve import llm_engine_kwargs
    config = "applications:\n- args:\n    llm_configs:\n    - engine_kwargs: {gpu_memory_utilization: 0.92, dtype: auto}\n"
    [kwargs] = llm_engine_kwargs(config)
    kwarg = kwargs["gpu_memory_utilization"]
    assert kwarg.value == 0.92 and config[slice(*kwarg.span)] == "0.92"
    assert kwargs["dtype"].value == "auto"
    # not YAML, no string, too large, an alias bomb's aliases are not followed: nothing read, no error
    assert llm_engine_kwargs("applications: [") == [] and llm_engine_kwargs(None) == []
    assert llm_engine_kwargs("x" * (1 << 21)) == []
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\napplications:\n- args: {llm_configs: [{engine_kwargs: {gpu_memory_utilization: *b}}]}\n"
    assert llm_engine_kwargs(bomb) == [{}]
