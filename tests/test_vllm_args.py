"""The effective vLLM argument model of a container, and the JSON Patch helpers that edit it."""
from __future__ import annotations

import copy
import shlex
from typing import Any

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from fuzzing import examples

from cslint.shell import tokenize
from cslint.vllm_args import (
    EngineArgs, Token, append_flags_ops, expand_k8s_vars, parse_engine_args,
    positional_to_flag_ops, remove_tokens_ops, replace_token_ops, set_flag_value_ops,
    split_inline_ops)
from cslint.vllm_entrypoints import is_vllm_image
from cslint.vllm_flags import is_option_like

P = "/spec/containers/0"
IMAGE = "vllm/vllm-openai:v0.11.0"
GUIDE_SCRIPT = ("vllm serve mistralai/Mistral-7B-Instruct-v0.3 --trust-remote-code "
                "--enable-chunked-prefill --max_num_batched_tokens 1024")


def parse(container: dict, env: dict | None = None, **kw: Any) -> EngineArgs:
    args = parse_engine_args(container, P, env if env is not None else _env_of(container), **kw)
    assert args is not None
    return args


def _env_of(container: dict) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for e in container.get("env") or []:
        if isinstance(e, dict) and isinstance(e.get("name"), str):
            out[e["name"]] = None if "valueFrom" in e else e.get("value")
    return out


def apply(container: dict, ops: list[dict]) -> dict:
    """Apply ops (pointers under P) to a copy of the container, via the jsonpatch library."""
    doc = {"spec": {"containers": [copy.deepcopy(container)]}}
    return jsonpatch.apply_patch(doc, ops)["spec"]["containers"][0]


def values(args: EngineArgs) -> list[str]:
    return [t.value for t in args.tokens]


def flags(args: EngineArgs) -> list[tuple[str, str | None]]:
    return [(f.name, f.value_text) for f in args.flags]


def script_of(args: EngineArgs, token: Token) -> str:
    return args.scalar(token.path)[token.start : token.end]  # type: ignore[index]


def guide() -> dict:
    return {"name": "vllm", "image": IMAGE, "command": ["/bin/sh", "-c"], "args": [GUIDE_SCRIPT]}


# -- entry points ---------------------------------------------------------------------------------
def test_k8s_guide_shell_form():
    args = parse(guide())
    assert args.entrypoint == "vllm-serve" and args.shell
    assert args.model == "mistralai/Mistral-7B-Instruct-v0.3"
    assert flags(args) == [("trust-remote-code", None), ("enable-chunked-prefill", None),
                           ("max-num-batched-tokens", "1024")]
    flag = args.get("max_num_batched_tokens")
    assert flag is not None and flag.spelling == "--max_num_batched_tokens"
    assert flag.value is not None and flag.value.path == P + "/args/0" and not flag.value.whole
    assert script_of(args, flag.value) == "1024"


@pytest.mark.parametrize("command", [
    ["vllm", "serve"], ["/usr/local/bin/vllm", "serve"],
    ["python3", "-m", "vllm.entrypoints.cli.main", "serve"],
    ["env", "A=1", "vllm", "serve"], ["nohup", "vllm", "serve"],
])
def test_explicit_vllm_serve(command):
    args = parse({"image": "custom", "command": command, "args": ["m", "--port", "8000"]})
    assert args.entrypoint == "vllm-serve" and not args.shell
    assert args.model == "m" and values(args) == ["m", "--port", "8000"]
    assert args.tokens[0].path == f"{P}/args/0" and args.tokens[0].whole


def test_everything_in_command():
    args = parse({"command": ["vllm", "serve", "m", "--tensor-parallel-size", "2"]})
    assert args.model == "m" and args.get("tensor-parallel-size").value.path == f"{P}/command/4"


@pytest.mark.parametrize("python", ["python", "python3", "python3.12", "/usr/bin/python3.12"])
def test_api_server_positional_model_is_not_the_model(python):
    args = parse({"command": [python, "-u", "-m", "vllm.entrypoints.openai.api_server"],
                  "args": ["meta-llama/X", "--port", "8000"]})
    assert args.entrypoint == "api-server"
    assert [t.value for t in args.positionals] == ["meta-llama/X"]
    assert args.model is None and args.model_token is None


def test_api_server_model_flag():
    args = parse({"command": ["python3", "-m", "vllm.entrypoints.openai.api_server",
                              "--model=meta-llama/X"]})
    assert args.model == "meta-llama/X" and args.model_token is args.get("model").token


def test_official_image_implicit_entrypoint():
    args = parse({"image": IMAGE, "args": ["--model", "m", "--max-model-len", "4096"]})
    assert args.entrypoint == "image-entrypoint" and args.duplicated_entrypoint == ()
    assert args.model == "m"


@pytest.mark.parametrize("lead", [["vllm", "serve"], ["serve"]])
def test_duplicated_entrypoint_is_exposed(lead):
    args = parse({"image": IMAGE, "args": [*lead, "m", "--port", "8000"]})
    assert [t.value for t in args.duplicated_entrypoint] == lead
    assert values(args)[: len(lead)] == lead
    assert args.model == "m" and flags(args) == [("port", "8000")]


def test_image_entrypoint_without_args():
    args = parse({"image": IMAGE})
    assert args.tokens == () and args.model is None


@pytest.mark.parametrize("image,expected", [
    ("vllm/vllm-openai", True), ("docker.io/vllm/vllm-openai:v0.11.0", True),
    ("vllm/vllm-openai@sha256:" + "0" * 64, True), ("registry:5000/mirror/vllm-openai:1", True),
    ("vllm/vllm-tpu:nightly", True), ("public.ecr.aws/q9t5s3a7/vllm-cpu-release-repo:v0.9", True),
    ("nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3", False), ("vllm", False),
    ("ghcr.io/org/my-vllm:1", False), (None, False),
])
def test_official_image_detection(image, expected):
    assert is_vllm_image(image) is expected


def test_kserve_huggingface_runtime_without_command():
    args = parse({"image": "kserve/huggingfaceserver:v0.15",
                  "args": ["--model_name=llama", "--model_id=meta-llama/X", "--backend=vllm"]},
                 kserve_hf=True)
    assert args.entrypoint == "kserve-huggingface"
    assert args.model == "meta-llama/X" and args.get("backend").value_text == "vllm"


def test_kserve_huggingface_explicit_module():
    args = parse({"command": ["python", "-m", "huggingfaceserver"],
                  "args": ["--model-id", "x/y", "--gpu_memory_utilization", "0.8"]})
    assert args.entrypoint == "kserve-huggingface" and args.model == "x/y"
    assert args.get("gpu-memory-utilization").value_text == "0.8"


@pytest.mark.parametrize("container", [
    {"image": "nginx"}, {"image": "nginx", "args": ["--port", "80"]},
    {"image": IMAGE, "command": ["sleep", "infinity"]},
    {"command": ["/bin/sh", "-c", "echo hello && sleep 10"]},
    {"command": ["bash", "script.sh"]}, {"command": ["python", "-c", "import vllm"]},
    {"command": ["vllm", "bench"]}, {"command": "vllm serve m"},
])
def test_not_an_engine(container):
    assert parse_engine_args(container, P, {}) is None


def test_image_without_entrypoint_running_args():
    args = parse({"image": "custom", "args": ["vllm", "serve", "m"]})
    assert args.entrypoint == "vllm-serve" and args.model == "m"


# -- shell scripts --------------------------------------------------------------------------------
@pytest.mark.parametrize("command,args", [
    (["/bin/sh", "-c"], None), (["sh", "-c"], None), (["bash", "-ec"], None),
    (["/bin/bash", "-xc"], None), (["bash", "-o", "pipefail", "-c"], None),
    (["bash"], ["-c"]), (["bash", "-lc"], None),
])
def test_shell_variants(command, args):
    script = "pip install x && exec vllm serve m --gpu-memory-utilization 0.95"
    container = {"command": command + ([] if args else [script])}
    if args:
        container["args"] = args + [script]
    parsed = parse(container)
    assert parsed.shell and parsed.model == "m"
    flag = parsed.get("gpu-memory-utilization")
    assert flag.value_text == "0.95" and script_of(parsed, flag.value) == "0.95"
    assert script.index("0.95") == flag.value.start


def test_first_vllm_segment_wins_and_operators_end_it():
    script = ("set -e; python3 -m pip install foo\nvllm serve a --port 1 | tee /log "
              "&& vllm serve b --port 2")
    args = parse({"command": ["sh", "-c", script]})
    assert args.model == "a" and values(args) == ["a", "--port", "1"]
    assert args.append_point.offset == script.index("1 |") + 1


def test_redirections_are_not_arguments():
    args = parse({"command": ["sh", "-c", "vllm serve m --port 1 > /tmp/log 2>&1"]})
    assert values(args) == ["m", "--port", "1"]


def test_multiline_script_with_continuations():
    script = "vllm serve m \\\n  --max-model-len 4096 \\\n  --enforce-eager"
    args = parse({"command": ["/bin/bash", "-c", script]})
    assert flags(args) == [("max-model-len", "4096"), ("enforce-eager", None)]


def test_quoted_values_in_scripts():
    script = "vllm serve 'my org/model' --served-model-name \"a b\" --chat-template='{{x}}'"
    args = parse({"command": ["sh", "-c", script]})
    assert args.model == "my org/model"
    assert args.get("served-model-name").value_text == "a b"
    assert args.get("chat-template").value_text == "{{x}}" and args.get("chat-template").inline


# -- flag spellings -------------------------------------------------------------------------------
def test_underscores_inline_form():
    args = parse({"image": IMAGE, "args": ["m", "--gpu_memory_utilization=0.95"]})
    flag = args.get("gpu-memory-utilization")
    assert flag.spelling == "--gpu_memory_utilization" and flag.inline
    assert flag.value_text == "0.95" and flag.value is flag.token


@pytest.mark.parametrize("words,name,value", [
    (["--device-memory-utilization", "0.8"], "gpu-memory-utilization", "0.8"),
    (["--device_memory_utilization=0.8"], "gpu-memory-utilization", "0.8"),
    (["-tp", "4"], "tensor-parallel-size", "4"),
    (["-tp=4"], "tensor-parallel-size", "4"),
    (["-pp", "2"], "pipeline-parallel-size", "2"),
    (["-dp", "2"], "data-parallel-size", "2"),
    (["-cc", '{"mode": 3}'], "compilation-config", '{"mode": 3}'),
    (["-cc.cudagraph_mode=none"], "compilation-config.cudagraph_mode", "none"),
    (["--compilation_config.mode", "3"], "compilation-config.mode", "3"),
    (["-q", "fp8"], "quantization", "fp8"),
    (["-O3"], "optimization-level", "3"),
    (["-O=3"], "optimization-level", "3"),
    (["-O", "3"], "optimization-level", "3"),
    (["-O.mode=3"], "compilation-config.mode", "3"),
    (["--max-logprobs", "-1"], "max-logprobs", "-1"),
    (["--x", "-0.5"], "x", "-0.5"),
])
def test_spellings(words, name, value):
    args = parse({"image": IMAGE, "args": ["m", *words]})
    assert flags(args) == [(name, value)]
    assert args.positionals[0].value == "m" and len(args.positionals) == 1


def test_dash_o3_spelling_is_kept():
    flag = parse({"image": IMAGE, "args": ["-O3"]}).get("optimization-level")
    assert flag.spelling == "-O3" and flag.inline and flag.value_text == "3"


def test_booleans_do_not_take_values():
    args = parse({"image": IMAGE, "args": [
        "--enforce-eager", "m", "--no-enable-prefix-caching", "x", "--trust_remote_code"]})
    assert [t.value for t in args.positionals] == ["m", "x"]
    assert all(f.value is None for f in args.flags)


def test_value_flag_followed_by_option_has_no_value():
    args = parse({"image": IMAGE, "args": ["m", "--download-dir", "--port", "1", "--x"]})
    assert flags(args) == [("download-dir", None), ("port", "1"), ("x", None)]


def test_double_dash_ends_options():
    args = parse({"image": IMAGE, "args": ["--port", "1", "--", "--model", "m"]})
    assert flags(args) == [("port", "1")]
    assert [t.value for t in args.positionals] == ["--model", "m"]


def test_multi_value_flags_swallow_words():
    args = parse({"image": IMAGE, "args": ["m", "--served-model-name", "a", "b", "--port", "1"]})
    flag = args.get("served-model-name")
    assert [t.value for t in flag.values] == ["a", "b"] and flag.value_text == "a"
    assert len(args.positionals) == 1


def test_last_occurrence_wins_and_all_lists_every_one():
    args = parse({"image": IMAGE, "args": ["m", "--gpu-memory-utilization", "0.8",
                                           "--gpu_memory_utilization=0.9"]})
    assert args.get("gpu-memory-utilization").value_text == "0.9"
    assert [f.value_text for f in args.all("--gpu_memory_utilization")] == ["0.8", "0.9"]
    assert args.has("gpu-memory-utilization") and not args.has("max-model-len")


def test_config_files_in_both_forms():
    args = parse({"image": IMAGE, "args": ["--config", "/c.yaml", "--config=/d.yaml"]})
    assert [(f.value_text, f.inline) for f in args.config_files] == [("/c.yaml", False),
                                                                     ("/d.yaml", True)]


# -- $(VAR) expansion ---------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected,used", [
    ("$(A)", "1", True), ("x$(A)y$(B)", "x1y2", True),
    ("$$(A)", "$(A)", False), ("$(NOPE)", "$(NOPE)", False), ("$(SECRET)", "$(SECRET)", False),
    ("$$", "$", False), ("$A", "$A", False), ("$(A", "$(A", False), ("a$", "a$", False),
])
def test_expand_k8s_vars(text, expected, used):
    assert expand_k8s_vars(text, {"A": "1", "B": "2", "SECRET": None}) == (expected, used)


def test_expansion_in_list_items():
    container = {"image": IMAGE, "env": [{"name": "MODEL", "value": "org/m"},
                                         {"name": "UTIL", "value": "0.85"}],
                 "args": ["$(MODEL)", "--gpu-memory-utilization=$(UTIL)", "--x", "$$(MODEL)"]}
    args = parse(container)
    assert args.model == "org/m" and args.model_token.expanded
    assert args.get("gpu-memory-utilization").value_text == "0.85"
    assert args.get("x").value_text == "$(MODEL)" and not args.get("x").value.expanded


def test_expansion_in_scripts_keeps_raw_offsets():
    script = "vllm serve $(MODEL) --max-model-len $(LEN) --port $PORT --y ${PORT}"
    env = {"MODEL": "org/m", "LEN": "8192", "PORT": "9000"}
    args = parse({"command": ["sh", "-c", script]}, env)
    assert args.model == "org/m" and script_of(args, args.model_token) == "$(MODEL)"
    length = args.get("max-model-len").value
    assert length.value == "8192" and length.expanded and script_of(args, length) == "$(LEN)"
    assert args.get("port").value_text == "9000" and args.get("y").value_text == "9000"


def test_value_from_variables_stay_literal():
    args = parse({"image": IMAGE, "args": ["$(MODEL)"],
                  "env": [{"name": "MODEL", "valueFrom": {"configMapKeyRef": {}}}]})
    assert args.model == "$(MODEL)" and not args.model_token.expanded


# -- VLLM_ADDITIONAL_ARGS -----------------------------------------------------------------------
def test_additional_args_env_is_appended():
    container = {"image": IMAGE, "args": ["m", "--port", "1"],
                 "env": [{"name": "HF_HOME", "value": "/c"},
                         {"name": "VLLM_ADDITIONAL_ARGS",
                          "value": "--max-model-len=32768 --gpu-memory-utilization 0.95"}]}
    args = parse(container)
    assert values(args)[-3:] == ["--max-model-len=32768", "--gpu-memory-utilization", "0.95"]
    flag = args.get("gpu-memory-utilization")
    assert flag.value.path == f"{P}/env/1/value" and not flag.value.whole
    assert script_of(args, flag.value) == "0.95"


def test_additional_args_from_secret_are_unknown():
    args = parse({"image": IMAGE, "env": [{"name": "VLLM_ADDITIONAL_ARGS", "valueFrom": {}}]})
    assert args.tokens == ()


# -- never raising ------------------------------------------------------------------------------
@pytest.mark.parametrize("container", [
    None, [], "x", {"command": 3}, {"command": {}}, {"args": {}}, {"image": IMAGE, "args": "m"},
    {"image": IMAGE, "args": [None, 3, 0.5, True, {"a": 1}, ["x"], "--port"]},
    {"image": IMAGE, "env": "x"}, {"image": IMAGE, "env": [None, {"name": 3}, {"value": "x"}]},
    {"command": ["sh", "-c"]}, {"command": ["sh", "-c", None]}, {"command": ["python", "-m"]},
    {"command": ["vllm"]}, {"image": 5}, {"command": ["sh", "-c", "vllm serve 'unterminated"]},
])
def test_malformed_containers_do_not_raise(container):
    parse_engine_args(container, P, {})  # type: ignore[arg-type]


def test_non_string_items_are_stringified_as_yaml_would():
    args = parse({"image": IMAGE, "args": ["m", "--port", 8000, "--x", 0.5, "--y", True, None]})
    assert flags(args) == [("port", "8000"), ("x", "0.5"), ("y", "true")]
    assert args.get("y").value.path == f"{P}/args/6"


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
WORDS = st.sampled_from(["vllm", "serve", "sh", "-c", "python3", "-m", "m", "--x", "1", "--",
                         "vllm.entrypoints.openai.api_server", "vllm serve m --y 2 && x",
                         "$(A)", "'", "-O3", "--config=c.yaml", None, 7])


@settings(max_examples=examples(300))
@given(st.fixed_dictionaries({}, optional={
    "image": st.sampled_from([IMAGE, "x", None, 3]),
    "command": st.lists(WORDS, max_size=5) | JSON, "args": st.lists(WORDS, max_size=6) | JSON,
    "env": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["A", "VLLM_ADDITIONAL_ARGS"]),
                                           "value": WORDS}), max_size=2) | JSON}),
       st.booleans(), JSON)
def test_never_raises_on_any_input(container, kserve_hf, env):
    args = parse_engine_args(container, P, env, kserve_hf=kserve_hf)  # type: ignore[arg-type]
    if args is not None:
        assert args.entrypoint in ("vllm-serve", "image-entrypoint", "api-server",
                                   "kserve-huggingface")
        args.model, args.model_token  # noqa: B018


SCRIPT = st.lists(st.sampled_from([
    "vllm", "serve", "--x", "1", "'a b'", '"c d"', "--y=$(A)", "&&", "|", ";", "\\\n", "#c\n",
    "e\\ f", "$(B)", "> /log", "2>&1", "--flag='q'", "\"\\$x\"", "-O3", "''"]), max_size=14)


@settings(max_examples=examples(300))
@given(SCRIPT)
def test_script_tokens_unquote_to_their_values(parts):
    script = "vllm serve m " + " ".join(parts)
    args = parse({"command": ["sh", "-c", script]}, {})
    for token in args.tokens:
        again = tokenize(script[token.start : token.end])
        assert [t.value for t in again] == [token.value]


# -- fixes ----------------------------------------------------------------------------------------
def reparse(container: dict, ops: list[dict], env: dict | None = None, **kw: Any) -> EngineArgs:
    return parse(apply(container, ops), env, **kw)


def test_replace_whole_token():
    container = {"image": IMAGE, "args": ["m", "--load-format", "pt"]}
    args = parse(container)
    ops = replace_token_ops(args, args.get("load-format").value, "safetensors")
    assert ops == [{"op": "replace", "path": f"{P}/args/2", "value": "safetensors"}]


def test_replace_shell_token_only_changes_that_word():
    container = guide()
    args = parse(container)
    ops = replace_token_ops(args, args.get("max-num-batched-tokens").value, "2048")
    assert ops == [{"op": "replace", "path": f"{P}/args/0",
                    "value": GUIDE_SCRIPT.replace("1024", "2048")}]


@pytest.mark.parametrize("container,expected", [
    ({"image": IMAGE, "args": ["m", "--gpu_memory_utilization=0.95"]},
     ["m", "--gpu_memory_utilization=0.9"]),
    ({"image": IMAGE, "args": ["m", "--device-memory-utilization", "0.95"]},
     ["m", "--device-memory-utilization", "0.9"]),
    ({"command": ["sh", "-c", "vllm serve m --gpu-memory-utilization=0.95 && x"]},
     ["sh", "-c", "vllm serve m --gpu-memory-utilization=0.9 && x"]),
    ({"command": ["sh", "-c", "vllm serve m --gpu-memory-utilization '0.95' && x"]},
     ["sh", "-c", "vllm serve m --gpu-memory-utilization 0.9 && x"]),
])
def test_set_flag_value_keeps_spelling(container, expected):
    args = parse(container)
    ops = set_flag_value_ops(args, args.get("gpu-memory-utilization"), "0.9")
    new = apply(container, ops)
    assert (new.get("command") if "command" in container else new["args"]) == expected
    assert parse(new).get("gpu-memory-utilization").value_text == "0.9"


@pytest.mark.parametrize("word", ["-O3", "-O=3"])
def test_set_dash_o_value(word):
    container = {"command": ["vllm", "serve", "m", word]}
    args = parse(container)
    new = apply(container, set_flag_value_ops(args, args.get("optimization-level"), "0"))
    assert new["command"][3] == word.replace("3", "0")


def test_set_value_of_a_flag_without_one_inserts_it():
    for container in ({"image": IMAGE, "args": ["m", "--max-model-len"]},
                      {"command": ["sh", "-c", "vllm serve m --max-model-len; echo"]}):
        args = parse(container)
        new = reparse(container, set_flag_value_ops(args, args.get("max-model-len"), "4096"))
        assert new.get("max-model-len").value_text == "4096"


def test_set_value_of_multi_value_flag_drops_the_extra_words():
    for container in ({"image": IMAGE, "args": ["m", "--served-model-name", "a", "b", "--p", "1"]},
                      {"command": ["sh", "-c", "vllm serve m --served-model-name a b --p 1"]}):
        args = parse(container)
        new = reparse(container, set_flag_value_ops(args, args.get("served-model-name"), "c"))
        assert [t.value for t in new.get("served-model-name").values] == ["c"]
        assert new.get("p").value_text == "1"


VALUES = st.text(alphabet=st.sampled_from(list("ab0.9 '\"\\$()&;#|=-\n")), max_size=12).filter(
    lambda v: not is_option_like(v))
FORMS = st.sampled_from([
    {"image": IMAGE, "args": ["m", "--gpu-memory-utilization", "0.95", "--port", "1"]},
    {"image": IMAGE, "args": ["m", "--gpu_memory_utilization=0.95", "--port", "1"]},
    {"command": ["/bin/sh", "-c"],
     "args": ["pip install x && vllm serve m --gpu-memory-utilization 0.95 --port 1 | tee l"]},
    {"command": ["bash", "-c", "vllm serve m --gpu_memory_utilization=0.95 --port 1"]},
    {"image": IMAGE, "args": ["m"], "env": [
        {"name": "VLLM_ADDITIONAL_ARGS", "value": "--gpu-memory-utilization '0.95' --port 1"}]},
])


@settings(max_examples=examples(300))
@given(FORMS, VALUES)
def test_set_value_round_trips_through_jsonpatch(container, value):
    args = parse(container)
    new = reparse(container, set_flag_value_ops(args, args.get("gpu-memory-utilization"), value))
    assert new.get("gpu-memory-utilization").value_text == value
    assert new.get("port").value_text == "1" and new.model == "m"


@settings(max_examples=examples(200))
@given(FORMS, st.lists(VALUES, min_size=1, max_size=3))
def test_append_round_trips_through_jsonpatch(container, words):
    args = parse(container)
    new = reparse(container, append_flags_ops(args, ["--served-model-name", *words]))
    assert [t.value for t in new.get("served-model-name").values] == words
    after = values(new)
    at = after.index("--served-model-name")
    assert after[:at] + after[at + 1 + len(words):] == values(args)  # nothing else moved


def test_append_to_list_args():
    container = {"image": IMAGE, "args": ["m"]}
    ops = append_flags_ops(parse(container), ["--enforce-eager"])
    assert ops == [{"op": "add", "path": f"{P}/args/-", "value": "--enforce-eager"}]


def test_append_creates_missing_args_list():
    container = {"image": IMAGE}
    ops = append_flags_ops(parse(container), ["--max-model-len", "4096"])
    assert ops == [{"op": "add", "path": f"{P}/args", "value": ["--max-model-len", "4096"]}]
    assert flags(reparse(container, ops)) == [("max-model-len", "4096")]


def test_append_into_script_before_operator():
    container = {"command": ["sh", "-c", "vllm serve m --port 1 > /log 2>&1 && echo done"]}
    new = apply(container, append_flags_ops(parse(container), ["--chat-template", "a b"]))
    assert new["command"][2] == "vllm serve m --port 1 --chat-template 'a b' > /log 2>&1 && echo done"


def test_append_to_guide_form():
    container = guide()
    new = apply(container, append_flags_ops(parse(container), ["--gpu-memory-utilization", "0.9"]))
    assert new["args"] == [GUIDE_SCRIPT + " --gpu-memory-utilization 0.9"]


def test_remove_list_items_in_descending_order():
    container = {"image": IMAGE, "args": ["m", "--enforce-eager", "--port", "1", "--x", "2"]}
    args = parse(container)
    port, x = args.get("port"), args.get("x")
    ops = remove_tokens_ops(args, [args.get("enforce-eager").token, port.token, port.value,
                                   x.value])
    assert [op["path"] for op in ops] == [f"{P}/args/{i}" for i in (5, 3, 2, 1)]
    assert apply(container, ops)["args"] == ["m", "--x"]


def test_remove_shell_words_takes_one_blank_run():
    container = {"command": ["sh", "-c", "vllm serve m --enforce-eager --port 1 && echo"]}
    args = parse(container)
    new = apply(container, remove_tokens_ops(args, [args.get("enforce-eager").token]))
    assert new["command"][2] == "vllm serve m --port 1 && echo"


def test_remove_a_continued_line_entirely():
    script = "vllm serve m \\\n  --enforce-eager \\\n  --port 1"
    container = {"command": ["bash", "-c", script]}
    args = parse(container)
    new = apply(container, remove_tokens_ops(args, [args.get("enforce-eager").token]))
    assert new["command"][2] == "vllm serve m \\\n  --port 1"
    last = args.get("port")
    new = apply(container, remove_tokens_ops(args, [last.token, last.value]))
    assert new["command"][2] == "vllm serve m \\\n  --enforce-eager"


def test_remove_from_additional_args_env():
    container = {"image": IMAGE, "args": ["m"],
                 "env": [{"name": "VLLM_ADDITIONAL_ARGS", "value": "--enforce-eager --port 1"}]}
    args = parse(container)
    new = apply(container, remove_tokens_ops(args, [args.get("enforce-eager").token]))
    assert new["env"][0]["value"] == "--port 1"


@pytest.mark.parametrize("container,expected", [
    ({"image": IMAGE, "args": ["m", "--config=/etc/c.yaml", "--port", "1"]},
     {"args": ["m", "--config", "/etc/c.yaml", "--port", "1"]}),
    ({"command": ["sh", "-c", "vllm serve m --config=/etc/c.yaml --port 1"]},
     {"command": ["sh", "-c", "vllm serve m --config /etc/c.yaml --port 1"]}),
    ({"command": ["sh", "-c", "vllm serve m \"--config=/etc/my c.yaml\""]},
     {"command": ["sh", "-c", "vllm serve m --config '/etc/my c.yaml'"]}),
])
def test_split_inline_config(container, expected):
    args = parse(container)
    new = apply(container, split_inline_ops(args, args.config_files[0]))
    assert {k: new[k] for k in expected} == expected
    flag = parse(new).config_files[0]
    assert not flag.inline and flag.value_text.startswith("/etc/")


def test_split_inline_of_a_separate_flag_is_a_no_op():
    args = parse({"image": IMAGE, "args": ["--config", "c.yaml"]})
    assert split_inline_ops(args, args.config_files[0]) == []


@pytest.mark.parametrize("container", [
    {"command": ["python3", "-m", "vllm.entrypoints.openai.api_server"],
     "args": ["--port", "1", "meta-llama/X"]},
    {"command": ["sh", "-c", "python3 -m vllm.entrypoints.openai.api_server --port 1 meta-llama/X"]},
])
def test_positional_to_model_flag(container):
    args = parse(container)
    new = reparse(container, positional_to_flag_ops(args, args.positionals[0]))
    assert new.model == "meta-llama/X" and new.positionals == ()


def test_ops_on_stringified_numbers_replace_the_item():
    container = {"image": IMAGE, "args": ["m", "--port", 8000]}
    args = parse(container)
    assert apply(container, set_flag_value_ops(args, args.get("port"), "9000"))["args"][2] == "9000"


@pytest.mark.parametrize("value", ["$(X)", "a$$b", "$HOME"])
def test_values_are_escaped_against_k8s_expansion(value):
    for container in ({"image": IMAGE, "args": ["m", "--x", "1"]},
                      {"command": ["sh", "-c", "vllm serve m --x 1"]}):
        args = parse(container)
        new = reparse(container, set_flag_value_ops(args, args.get("x"), value), {"X": "boom"})
        assert new.get("x").value_text == value


def test_shlex_quote_is_used_only_when_needed():
    container = {"command": ["sh", "-c", "vllm serve m"]}
    ops = append_flags_ops(parse(container), ["--chat-template", "/t.jinja", "it's"])
    assert ops[0]["value"] == "vllm serve m --chat-template /t.jinja " + shlex.quote("it's")


@pytest.mark.parametrize("switch", ["--skip-mm-profiling", "--enable-some-new-feature", "--disable-x-y", "--no-enable-z"])
def test_a_switch_the_table_does_not_know_does_not_swallow_the_model(switch):
    """vLLM starts only its switches with these words; a new one before the model made the model
    its value, and the model rules (CS102, CS103) went silent."""
    args = parse({"image": IMAGE, "args": [switch, "meta-llama/Llama-3.1-8B", "--max-model-len", "4096"]})
    assert args.model == "meta-llama/Llama-3.1-8B"
    assert args.get("max-model-len").value_text == "4096"


def test_command_in_args_on_the_vllm_serve_image_is_read_as_the_command_and_marked():
    shell = parse({"image": IMAGE, "args": ["sh", "-c", "vllm serve /m --gpu-memory-utilization 0.8"]})
    assert shell.command_in_args.value == "sh" and shell.get("gpu-memory-utilization").value_text == "0.8"
    assert parse({"image": IMAGE, "args": ["/bin/bash", "/start.sh"]}).command_in_args.value == "/bin/bash"
    assert parse({"image": IMAGE, "args": ["/models/m"]}).command_in_args is None
    assert parse({"image": IMAGE, "command": ["sh", "-c"], "args": ["vllm serve /m"]}).command_in_args is None
