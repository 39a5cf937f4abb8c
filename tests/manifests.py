"""Manifests several test modules share (one copy, so a change to the trap lands everywhere)."""

# A vLLM Deployment with the classic cold-start traps (tag-pinned image, Always, Hub model,
# no shm, no NCCL setting): every fix has something to do.
VLLM_DEPLOYMENT = """apiVersion: apps/v1
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
          args: ["--model", "meta-llama/Llama-3.1-8B-Instruct"]
          resources: {limits: {nvidia.com/gpu: 1}}
"""
