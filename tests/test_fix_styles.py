"""Hypothesis-generated variations of one Deployment full of traps (indentation step, sequence
indentation, quoting of env values, CRLF, final newline): every variation must fix in its own
style and satisfy the properties of test_fix_properties."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from fuzzing import examples

from fix_support import own_line_comments
from test_fix_properties import check_fix_properties

SHELL = 'vllm serve /models/llama --gpu-memory-utilization 0.95 --port 8000'


def template(step: int, indent_seq: bool, quote: str, nccl_quote: str) -> str:
    """The Deployment, written with `step` spaces per level and `- ` indented or not."""
    lines: list[str] = []

    def put(level: int, text: str) -> None:
        lines.append(" " * (step * level) + text)

    def item(level: int, first: str, rest: list[str]) -> None:
        """A sequence item under a key at `level`: dash column per `indent_seq`."""
        dash = step * (level + 1) if indent_seq else step * level
        lines.append(" " * dash + "- " + first)
        for r in rest:
            lines.append(" " * (dash + 2) + r)

    q = {"plain": "", "single": "'", "double": '"'}[quote]
    lines.append("# Generated: traps in every corner")
    lines.append("---")
    put(0, "apiVersion: apps/v1  # trailing")
    put(0, "kind: Deployment")
    put(0, "metadata:")
    put(1, "name: vllm-generated")
    put(0, "spec:")
    put(1, "# comment between keys")
    put(1, "selector:")
    put(2, "matchLabels: {app: vllm}")
    put(1, "template:")
    put(2, "metadata:")
    put(3, "labels: {app: vllm}")
    put(2, "spec:")
    put(3, "containers:")
    item(3, "name: vllm   # engine", ["image: vllm/vllm-openai:v0.12.3",
                                     f'command: ["sh", "-c", "{SHELL}"]', "env:"])
    dash_env = len(lines[-1]) - len("env:") + (step if indent_seq else 0)
    lines.append(" " * dash_env + "- name: HF_HOME")
    lines.append(" " * (dash_env + 2) + f"value: {q}/models{q}")
    lines.append(" " * dash_env + "# comment after the env items")
    lines.append(" " * dash_env + "- name: NCCL_CUMEM_ENABLE")
    lines.append(" " * (dash_env + 2) + f"value: {nccl_quote}1{nccl_quote}")
    key_col = dash_env - (step if indent_seq else 0)
    lines.append(" " * key_col + "volumeMounts:")
    lines.append(" " * dash_env + "- {name: dshm, mountPath: /dev/shm}")
    put(3, "volumes:")
    item(3, "name: dshm", ["emptyDir: {medium: Memory}  # too small"])
    lines.append("# the end")
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(step=st.sampled_from([2, 4]), indent_seq=st.booleans(),
       quote=st.sampled_from(["plain", "single", "double"]), nccl_quote=st.sampled_from(["'", '"']),
       crlf=st.booleans(), final_newline=st.booleans())
def test_generated_deployment_fixes_in_its_own_style(step, indent_seq, quote, nccl_quote, crlf, final_newline):
    text = template(step, indent_seq, quote, nccl_quote)
    if not final_newline:
        text = text.rstrip("\n")
    if crlf:
        text = text.replace("\n", "\r\n")
    outcome = check_fix_properties("generated.yaml", text)
    fixed = outcome.text
    assert {"CS401", "CS402", "CS403"} <= set(outcome.fixed)
    assert fixed.endswith("\n") == final_newline
    if crlf:
        assert "\n" not in fixed.replace("\r\n", "")
    lines = fixed.replace("\r\n", "\n").split("\n")
    # the shell string: only 0.95 became 0.8
    shell = [ln for ln in lines if '"sh", "-c"' in ln]
    assert shell == [ln.replace("0.95", "0.8") for ln in text.replace("\r\n", "\n").split("\n") if '"sh", "-c"' in ln]
    # env: values quoted strings; new items share the dash column of the old ones
    dash = {len(ln) - len(ln.lstrip()) for ln in lines if re.match(r"\s*- name: (HF_HOME|HF_HUB_OFFLINE|"
                                                                     r"TRANSFORMERS_OFFLINE|NCCL_CUMEM_ENABLE)$", ln)}
    assert len(dash) == 1
    values = [ln.strip() for ln in lines if ln.strip().startswith("value:")]
    assert f"value: {nccl_quote}0{nccl_quote}" in values
    assert values.count('value: "1"') == 2 and "value: 1" not in values
    # the flow emptyDir got a flow insertion, on its own line, with its comment
    assert any(ln.endswith("emptyDir: {medium: Memory, sizeLimit: 16Gi}  # too small") for ln in lines)
    assert own_line_comments(fixed.replace("\r\n", "\n")) == own_line_comments(text.replace("\r\n", "\n"))


NULL_KEYS = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  volumes:  # none yet
  containers:
  - name: vllm
    image: vllm/vllm-openai:v0.12.0
    args: [--model, m/m]
    volumeMounts:
    env:"""

KNATIVE_NULL_ANNOTATIONS = """apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: llm
spec:
  template:
    metadata:
      annotations:  # set below
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:v0.12.0
        args: ["--model", "m/m"]
"""


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("final_newline", [False, True])
@pytest.mark.parametrize("text,codes,kept", [
    (NULL_KEYS, {"CS401", "CS402"}, ["  volumes:  # none yet", "    volumeMounts:", "    env:"]),
    (KNATIVE_NULL_ANNOTATIONS, {"CS506"}, ["      annotations:  # set below"]),
])
def test_null_valued_keys_get_a_block_value_below_them(text, codes, kept, crlf, final_newline):
    """`env:` with nothing after it is null, written as nothing: the value goes on the lines below
    the key (its comment kept); written after the colon it lost its space and did not parse."""
    text = text.rstrip("\n") + ("\n" if final_newline else "")
    if crlf:
        text = text.replace("\n", "\r\n")
    outcome = check_fix_properties("null.yaml", text)
    assert codes <= set(outcome.fixed)
    lines = outcome.text.replace("\r\n", "\n").split("\n")
    for line in kept:
        assert line in lines and lines[lines.index(line) + 1].lstrip().startswith(("- name:", "serving."))
    assert outcome.text.endswith("\n") == final_newline
    if crlf:
        assert "\n" not in outcome.text.replace("\r\n", "")
