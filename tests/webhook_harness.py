"""`cslint serve` as a subprocess with a throwaway CA, for the tests that speak real TLS to it."""
from __future__ import annotations

import copy
import datetime
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from cslint.webhook.admission import review_for
from webhook_tls import issue, make_ca

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhook"
CA_NAME = "ca.crt"
BASE_ARGS = ("--fail-on", "error", "--cert-check-interval", "0.2", "--header-timeout", "1.5",
             "--body-timeout", "1.5")


def load(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text())


def owner_reference(api_version: str, kind: str, name: str, controller: bool | None = True) -> dict:
    ref = {"apiVersion": api_version, "kind": kind, "name": name, "uid": f"{name}-0000-4000-8000-000000000001"}
    return ref if controller is None else dict(ref, controller=controller)


def replicaset_pod(deployment: dict, owner: dict | None = None) -> dict:
    """The Pod that a Deployment's ReplicaSet creates: the pod template, owned by the ReplicaSet
    (or by `owner`)."""
    meta, template = deployment["metadata"], copy.deepcopy(deployment["spec"]["template"])
    owner = owner or owner_reference("apps/v1", "ReplicaSet", f"{meta['name']}-7d9f")
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": dict(template.get("metadata", {}), generateName=f"{owner['name']}-",
                             namespace=meta.get("namespace", "default"), ownerReferences=[owner]),
            "spec": template["spec"]}


def operator_pod() -> dict:
    """pod-operator.yaml as an operator the webhook does not review creates it: the Pod is the only
    place its spec can be checked (owned by a ReplicaSet as in the file, it is judged at the owner)."""
    pod = load("pod-operator.yaml")
    pod["metadata"]["ownerReferences"] = [owner_reference("models.example.com/v1", "ModelServer", "qwen")]
    return pod


def vllm_pod(containers: int) -> dict:
    """A bare Pod with `containers` identical vLLM containers, each with safe fixes to make."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "many", "namespace": "ml"},
            "spec": {"containers": [{"name": f"c{i}", "image": "vllm/vllm-openai:v0.11.0", "args": ["--model", "x"]}
                                    for i in range(containers)]}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process. `window` starts it with a certificate valid only then (expired, say),
    and then the client does not verify it; `wait` is the path that must answer 200 first."""

    def __init__(self, tmp: Path, *args: str, window: tuple[datetime.datetime, datetime.datetime] | None = None,
                 wait: str = "/readyz"):
        self.tmp = tmp
        self.ca = make_ca()
        (tmp / CA_NAME).write_bytes(self.ca.pem())
        self.cert, self.key = tmp / "tls.crt", tmp / "tls.key"
        issue(self.ca, "webhook-1", self.cert, self.key, window=window)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.log = open(tmp / "server.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cslint", "serve", "--isolated", "--tls-cert", str(self.cert), "--tls-key",
             str(self.key), "--host", "127.0.0.1", "--port", str(self.port), *BASE_ARGS, *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        verify: ssl.SSLContext | bool = False if window else self.context()
        self.client = httpx.Client(base_url=self.url, verify=verify, timeout=10)
        self._wait(wait)

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.tmp / CA_NAME))

    def _wait(self, path: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if self.client.get(path).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def review(self, path: str, obj: dict, **request) -> dict:
        reply = self.client.post(path, json=review_for(obj, **request))
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["apiVersion"] == "admission.k8s.io/v1" and body["kind"] == "AdmissionReview"
        assert body["response"]["uid"] == request.get("uid", "test-uid")
        return body["response"]

    def wait_for(self, predicate, timeout: float = 10.0):
        """Poll until `predicate()` is truthy (the reloader checks every 0.2 s); its last value."""
        deadline, value = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        return value

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
        self.log.close()
