"""`cslint serve` as a subprocess, spoken to over real TLS with the test CA verified."""
from __future__ import annotations

import base64
import copy
import json
import socket
import ssl
import subprocess
import sys
import time
import warnings

import jsonpatch
import pytest
import yaml

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
pytest.importorskip("cryptography")

from cslint.webhook.admission import review_for  # noqa: E402
from fix_support import replay  # noqa: E402
from webhook_harness import (CA_NAME, FIXTURES, Server, load, operator_pod, owner_reference,  # noqa: E402
                             replicaset_pod, vllm_pod)
from webhook_tls import issue  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("webhook"), "--exempt-namespace", "kube-system", "--exempt-namespace", "sandbox")
    yield srv
    alive = srv.proc.poll() is None
    srv.stop()
    assert alive, "the server died during the tests"
    assert "Traceback" not in (srv.tmp / "server.log").read_text()


# -- verdicts --------------------------------------------------------------------------------------
def test_clean_deployment_is_allowed_without_warnings(server):
    resp = server.review("/validate", load("deployment-clean.yaml"), uid="u-clean")
    assert resp == {"uid": "u-clean", "allowed": True}


def test_bare_operator_pod_is_denied_with_code_container_path_and_hint(server):
    resp = server.review("/validate", operator_pod(), uid="u-pod")
    assert resp["allowed"] is False
    assert resp["status"]["code"] == 403
    message = resp["status"]["message"]
    assert "CS201" in message and "container kserve-container" in message
    assert "/spec/containers/0/image" in message


def test_inference_service_is_denied_and_lower_findings_become_short_warnings(server):
    resp = server.review("/validate", load("inferenceservice.yaml"))
    assert resp["allowed"] is False
    assert "CS403" in resp["status"]["message"] and "(fix: " in resp["status"]["message"]
    assert {w.split()[0] for w in resp["warnings"]} >= {"CS101", "CS402"}
    assert all(len(w) <= 120 for w in resp["warnings"])


def test_leaderworkerset_with_only_warnings_is_allowed_with_warnings(server):
    resp = server.review("/validate", load("leaderworkerset-warn.yaml"))
    assert resp["allowed"] is True
    assert resp["warnings"] and resp["warnings"][0].startswith("CS402 container leader:")


def test_exempt_namespace_and_delete_pass_untouched(server):
    pod = operator_pod()
    pod["metadata"]["namespace"] = "sandbox"
    assert server.review("/validate", pod, namespace="sandbox") == {"uid": "test-uid", "allowed": True}
    assert server.review("/validate", operator_pod(), operation="DELETE", object=None) == \
        {"uid": "test-uid", "allowed": True}


def test_dry_run_is_answered_like_any_request(server):
    resp = server.review("/validate", operator_pod(), dryRun=True)
    assert resp["allowed"] is False


# -- UPDATE: judged on what the update brings --------------------------------------------------------
def _labelled(obj: dict) -> dict:
    new = copy.deepcopy(obj)
    new["metadata"]["labels"] = {"team": "search"}
    return new


def test_update_keeping_a_preexisting_violation_is_allowed_with_a_warning(server):
    old = load("deployment-tag-pinned.yaml")
    resp = server.review("/validate", _labelled(old), operation="UPDATE", oldObject=old, uid="u-upd")
    assert resp["allowed"] is True
    assert resp["warnings"] == [w for w in resp["warnings"] if w.startswith("CS201 container vllm (pre-existing):")]
    assert resp["auditAnnotations"] == {"preexisting": "CS201"}
    assert server.review("/validate", _labelled(old))["allowed"] is False  # the same object, created


def test_update_bringing_a_new_violation_is_denied_for_that_one(server):
    old = load("deployment-tag-pinned.yaml")
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["volumes"][0]["emptyDir"] = {}
    resp = server.review("/validate", new, operation="UPDATE", oldObject=old)
    assert resp["allowed"] is False and resp["status"]["code"] == 403
    assert "CS401" in resp["status"]["message"] and "CS201" not in resp["status"]["message"]
    assert resp["warnings"][0].startswith("CS201 container vllm (pre-existing)")


def test_update_mutation_waits_for_a_pod_template_change(server):
    old = load("deployment-fixable.yaml")
    label_only = server.review("/mutate", _labelled(old), operation="UPDATE", oldObject=old)
    assert "patch" not in label_only
    assert label_only["auditAnnotations"] == {"preexisting-not-fixed": "CS401,CS402,CS403"}
    restarted = copy.deepcopy(old)
    restarted["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "2026-01-01"}
    resp = server.review("/mutate", restarted, operation="UPDATE", oldObject=old)
    patched = jsonpatch.apply_patch(restarted, json.loads(base64.b64decode(resp["patch"])))
    assert patched["metadata"]["annotations"]["cslint.io/fixed"] == "CS401,CS402,CS403"


# -- objects a controller creates: judged at their owner --------------------------------------------
SKIPPED = {"skipped": "controller-owned", "owner": "ReplicaSet/qwen-7d9f"}


def test_pods_of_a_deployment_with_preexisting_findings_are_judged_at_the_deployment(server):
    old = load("deployment-tag-pinned.yaml")
    update = server.review("/validate", _labelled(old), operation="UPDATE", oldObject=old)
    assert update["allowed"] is True and update["auditAnnotations"] == {"preexisting": "CS201"}
    pod = replicaset_pod(old)  # what the ReplicaSet sends when the Deployment scales or rolls
    assert server.review("/validate", pod, uid="u-rs-pod") == {"uid": "u-rs-pod", "allowed": True,
                                                               "auditAnnotations": SKIPPED}
    assert server.review("/mutate", replicaset_pod(load("deployment-fixable.yaml"))) == \
        {"uid": "test-uid", "allowed": True, "auditAnnotations": SKIPPED}  # no patch: no drift from the template
    del pod["metadata"]["ownerReferences"]  # the same Pod created by hand is checked
    assert server.review("/validate", pod)["allowed"] is False


def test_replicaset_of_a_deployment_is_judged_at_the_deployment(server):
    deployment = load("deployment-fixable.yaml")
    rs = dict(deployment, kind="ReplicaSet", metadata={"name": "qwen-7d9f", "namespace": "ml", "ownerReferences": [
        owner_reference("apps/v1", "Deployment", "qwen")]})
    for path in ("/validate", "/mutate"):
        assert server.review(path, rs) == {"uid": "test-uid", "allowed": True, "auditAnnotations":
                                           {"skipped": "controller-owned", "owner": "Deployment/qwen"}}


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("webhook-strict"), "--update-policy", "all")
    yield srv
    srv.stop()


def test_update_policy_all_denies_a_label_change_on_an_old_violation(strict_server):
    old = load("deployment-tag-pinned.yaml")
    resp = strict_server.review("/validate", _labelled(old), operation="UPDATE", oldObject=old)
    assert resp["allowed"] is False and "CS201" in resp["status"]["message"]


# -- mutation --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["deployment-fixable.yaml", "inferenceservice.yaml", "leaderworkerset-warn.yaml"])
def test_mutate_patch_applies_and_is_idempotent(server, name):
    obj = load(name)
    resp = server.review("/mutate", obj)
    assert resp["allowed"] is True and resp["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(resp["patch"]))
    patched = jsonpatch.apply_patch(obj, ops)
    assert patched["metadata"]["annotations"]["cslint.io/fixed"]
    again = server.review("/mutate", patched)
    assert "patch" not in again, "re-reviewing the patched object must yield no patch"
    verdict = server.review("/validate", patched)
    remaining = " ".join(verdict.get("warnings", [])) + verdict.get("status", {}).get("message", "")
    for code in patched["metadata"]["annotations"]["cslint.io/fixed"].split(","):
        assert code not in remaining


def test_mutated_fixable_deployment_then_validates_clean(server):
    obj = load("deployment-fixable.yaml")
    assert server.review("/validate", obj)["allowed"] is False
    ops = json.loads(base64.b64decode(server.review("/mutate", obj)["patch"]))
    assert server.review("/validate", jsonpatch.apply_patch(obj, ops)) == {"uid": "test-uid", "allowed": True}


@pytest.mark.parametrize("containers", [10, 40])
def test_mutate_fixes_every_container_of_a_many_container_pod(server, containers):
    pod = vllm_pod(containers)
    resp = server.review("/mutate", pod)
    assert resp["allowed"] is True and resp["patchType"] == "JSONPatch", resp
    patched = jsonpatch.apply_patch(pod, json.loads(base64.b64decode(resp["patch"])))
    assert [v["name"] for v in patched["spec"]["volumes"]] == ["dshm"]  # one volume, shared
    for c in patched["spec"]["containers"]:
        assert {"name": "dshm", "mountPath": "/dev/shm"} in c["volumeMounts"]
        assert "--gpu-memory-utilization" in c["args"]
    assert "patch" not in server.review("/mutate", patched)


@pytest.fixture(scope="module")
def unsafe_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("webhook-unsafe"), "--unsafe-fixes", "--failure-mode", "closed")
    yield srv
    srv.stop()
    assert "Traceback" not in (srv.tmp / "server.log").read_text()


def test_mutate_with_unsafe_fixes_patches_what_the_cli_writes(unsafe_server, tmp_path):
    """The two fix loops agree: the webhook's patched object is the file `cslint check --fix
    --unsafe-fixes` writes (CS401 and CS405 once needed a pass per container: 12 for this file)."""
    source = FIXTURES.parent / "CS202" / "pull-policy.yaml"
    obj = yaml.safe_load(source.read_text())
    resp = unsafe_server.review("/mutate", obj)
    assert resp["allowed"] is True and resp["patchType"] == "JSONPatch", resp
    patched = jsonpatch.apply_patch(obj, json.loads(base64.b64decode(resp["patch"])))
    assert "CS405" in patched["metadata"].pop("annotations")["cslint.io/fixed"]
    copy_ = tmp_path / "pull-policy.yaml"
    copy_.write_text(source.read_text())
    subprocess.run([sys.executable, "-m", "cslint", "check", "--isolated", "--fix", "--unsafe-fixes", str(copy_)],
                   capture_output=True, check=False)
    assert yaml.safe_load(copy_.read_text()) == patched
    assert len(replay(str(source), source.read_text())) <= 3  # the CLI's passes: all containers at once


# -- bad input never stops the server ---------------------------------------------------------------
GOOD = json.dumps(review_for(yaml.safe_load((FIXTURES / "deployment-clean.yaml").read_text()))).encode()


def _raw_bad_bodies() -> list[tuple[str, bytes, int, str]]:
    """Bodies that say nothing about which request they answer: no AdmissionReview can reply."""
    review = json.loads(GOOD)
    no_request = {k: v for k, v in review.items() if k != "request"}
    wrong_kind = dict(review, kind="TokenReview")
    no_uid = json.loads(GOOD)
    del no_uid["request"]["uid"]
    return [
        ("invalid json", b'{"apiVersion": ', 400, "not valid JSON"),
        ("not an object", b"[1, 2]", 400, "JSON object"),
        ("wrong kind", json.dumps(wrong_kind).encode(), 400, "AdmissionReview"),
        ("missing request", json.dumps(no_request).encode(), 400, "no request"),
        ("missing uid", json.dumps(no_uid).encode(), 400, "request.uid"),
        ("deeply nested", b"[" * 100000 + b"]" * 100000, 400, ""),
        ("over the size limit", b" " * (3 * 1024 * 1024 + 1), 413, "exceeds"),
    ]


@pytest.mark.parametrize("label,body,status,words", _raw_bad_bodies(), ids=[b[0] for b in _raw_bad_bodies()])
def test_bad_input_gets_a_clear_4xx_and_the_next_request_is_served(server, label, body, status, words):
    reply = server.client.post("/validate", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == status, reply.text
    assert words in reply.json()["error"]
    good = server.client.post("/validate", content=GOOD, headers={"content-type": "application/json"})
    assert good.status_code == 200 and good.json()["response"]["allowed"] is True


def _malformed_reviews() -> list[tuple[str, dict, str, str]]:
    """Reviews that carry a request.uid but cannot be judged: (label, review, answer's apiVersion, reason)."""
    def with_request(**changes) -> dict:
        review = json.loads(GOOD)
        review["request"].update(changes)
        return review
    missing_object = json.loads(GOOD)
    del missing_object["request"]["object"]
    return [
        ("object is a list", with_request(object=["not", "a", "mapping"]), "admission.k8s.io/v1", "request.object"),
        ("object is a string", with_request(object="kind: Pod"), "admission.k8s.io/v1", "request.object"),
        ("missing object", missing_object, "admission.k8s.io/v1", "request.object"),
        ("unknown operation", with_request(operation="PATCH"), "admission.k8s.io/v1", "request.operation"),
        ("v1beta1", dict(json.loads(GOOD), apiVersion="admission.k8s.io/v1beta1"), "admission.k8s.io/v1beta1",
         "admissionReviewVersions: [v1]"),
        ("no apiVersion", {k: v for k, v in json.loads(GOOD).items() if k != "apiVersion"}, "admission.k8s.io/v1",
         "expected apiVersion admission.k8s.io/v1"),
    ]


def _answer(srv, path: str, review: dict, api_version: str) -> dict:
    """A malformed review's answer: HTTP 200, an AdmissionReview in the version the API server decodes."""
    reply = srv.client.post(path, json=dict(review, request=dict(review["request"], uid="bad-uid")))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["apiVersion"], body["kind"], body["response"]["uid"]) == (api_version, "AdmissionReview", "bad-uid")
    return body["response"]


@pytest.mark.parametrize("label,review,api_version,reason", _malformed_reviews(), ids=[m[0] for m in _malformed_reviews()])
@pytest.mark.parametrize("path", ["/validate", "/mutate"])
def test_malformed_review_with_a_uid_is_answered_with_its_reason(server, unsafe_server, path, label, review,
                                                                  api_version, reason):
    """An HTTP 400 is a failed call to the API server: failurePolicy applies and the user sees no
    reason. With a uid to answer, failure-mode decides in an AdmissionReview that says why."""
    opened = _answer(server, path, review, api_version)  # failure-mode open (the default)
    assert opened["allowed"] is True and "patch" not in opened and "status" not in opened, opened
    [warning] = opened["warnings"]
    assert warning.startswith("cslint did not check this object: malformed AdmissionReview") and reason in warning
    assert len(warning) <= 256
    closed = _answer(unsafe_server, path, review, api_version)  # failure-mode closed
    assert closed["allowed"] is False and "patch" not in closed, closed
    assert closed["status"]["code"] == 400 and closed["status"]["reason"] == "BadRequest"
    assert reason in closed["status"]["message"] and "malformed AdmissionReview" in closed["status"]["message"]
    assert "uid=bad-uid: malformed AdmissionReview" in server.output()
    assert 'verdict="malformed"' in server.client.get("/metrics").text


def test_streamed_body_over_the_limit_without_length_is_refused(server):
    def chunks():
        for _ in range(4):
            yield b" " * (1024 * 1024)
    reply = server.client.post("/mutate", content=chunks())
    assert reply.status_code == 413
    assert server.client.post("/mutate", content=GOOD).status_code == 200


def test_slow_body_and_idle_connection_are_timed_out(server):
    ctx = ssl.create_default_context(cafile=str(server.tmp / CA_NAME))
    with socket.create_connection(("127.0.0.1", server.port)) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        tls.settimeout(5)
        assert b" 408 " in tls.recv(4096).split(b"\r\n")[0] + b" "
    with socket.create_connection(("127.0.0.1", server.port)) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"GET /healthz HTTP/1.1\r\n")  # a request head that never ends
        tls.settimeout(5)
        start = time.monotonic()
        assert tls.recv(4096) == b""  # closed by the server
        assert time.monotonic() - start < 4.5
    assert server.client.get("/healthz").text == "ok"


# -- TLS ---------------------------------------------------------------------------------------------
def test_plain_http_and_tls_1_1_are_refused_tls_1_2_is_served(server):
    v12 = ssl.create_default_context(cafile=str(server.tmp / CA_NAME))
    v12.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as raw, \
            v12.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.version() == "TLSv1.2"
        assert _get(tls, "/healthz") == b"HTTP/1.1 200 OK ok"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=3)
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(server.tmp / CA_NAME))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        old.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:  # pragma: no cover
        pass
    with pytest.raises((ssl.SSLError, OSError)):
        with socket.create_connection(("127.0.0.1", server.port), timeout=3) as raw:
            old.wrap_socket(raw, server_hostname="127.0.0.1")


def _get(tls: ssl.SSLSocket, path: str) -> bytes:
    """One HTTP/1.1 request on an open connection; the status line and the whole body."""
    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += tls.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += tls.recv(4096)
    return head.split(b"\r\n")[0] + b" " + body


def _peer_cn(tls: ssl.SSLSocket) -> str:
    return dict(x[0] for x in tls.getpeercert()["subject"])["commonName"]


def test_rotated_certificate_is_served_to_new_connections_without_dropping_old_ones(server):
    ctx = ssl.create_default_context(cafile=str(server.tmp / CA_NAME))
    before = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port)), server_hostname="127.0.0.1")
    first_cn = _peer_cn(before)
    assert _get(before, "/healthz") == b"HTTP/1.1 200 OK ok"
    issue(server.ca, "webhook-2", server.cert, server.key)
    deadline, cn = time.monotonic() + 10, first_cn
    while cn == first_cn and time.monotonic() < deadline:
        time.sleep(0.1)
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port)),
                             server_hostname="127.0.0.1") as fresh:
            cn = _peer_cn(fresh)
    assert (first_cn, cn) == ("webhook-1", "webhook-2")
    assert _get(before, "/healthz") == b"HTTP/1.1 200 OK ok"  # the old connection still works
    assert _peer_cn(before) == "webhook-1"
    before.close()
    assert server.proc.poll() is None
    assert 'cslint_webhook_certificate_reloads_total{result="success"}' in server.client.get("/metrics").text


# -- operations endpoints -------------------------------------------------------------------------
def test_health_ready_and_metrics(server):
    assert server.client.get("/healthz").text == "ok"
    assert server.client.get("/readyz").status_code == 200
    server.review("/validate", operator_pod())
    text = server.client.get("/metrics").text
    assert server.client.get("/metrics").headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'cslint_webhook_requests_total{endpoint="validate",verdict="denied"}' in text
    assert 'cslint_webhook_findings_total{code="CS201"}' in text
    assert 'cslint_webhook_request_duration_seconds_bucket{endpoint="validate",le="+Inf"}' in text
    assert 'verdict="http_400"' in text or "http_400" not in text
    assert server.client.get("/validate").status_code == 405
