"""UPDATEs whose /mutate patch is decided outside the pod template, over real TLS (`cslint serve`).

The update leaves the pod template alone, so pre-existing findings are held; what the update
brings is an object-level finding (CS506, Knative's progress deadline on a KServe
InferenceService). Its fix either stays outside the template (the deadline in `metadata`) or
itself rewrites the template (the deadline in `spec.predictor`), and then the patch rolls the
pods anyway and the pre-existing fixes ride along. Either way the patched object, re-reviewed
with the same oldObject (as the API server's reinvocation does), yields no patch.
"""
from __future__ import annotations

import base64
import copy
import json

import pytest

pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
pytest.importorskip("cryptography")

import jsonpatch  # noqa: E402

from cslint.webhook.ratchet import templates_change  # noqa: E402
from webhook_harness import Server, load  # noqa: E402

DEADLINE = "serving.knative.dev/progress-deadline"
MODE = "serving.kserve.io/deploymentMode"
PREEXISTING = "CS401,CS402,CS403,CS405"  # the fixable findings inferenceservice.yaml carries


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("webhook-update"), "--unsafe-fixes")  # CS506's fix is unsafe
    yield srv
    alive = srv.proc.poll() is None
    srv.stop()
    assert alive, "the server died during the tests"
    assert "Traceback" not in (srv.tmp / "server.log").read_text()


def inference_service(**annotations: str) -> dict:
    obj = load("inferenceservice.yaml")
    obj["metadata"]["annotations"] = dict(annotations)
    return obj


def patch_of(resp: dict) -> list[dict]:
    return json.loads(base64.b64decode(resp["patch"]))


def mutate_update(server: Server, old: dict, new: dict) -> dict:
    return server.review("/mutate", new, operation="UPDATE", oldObject=old)


def test_new_object_level_finding_is_patched_outside_the_pod_template(server):
    old = inference_service(**{DEADLINE: "1500s"})
    new = copy.deepcopy(old)
    new["metadata"]["annotations"][DEADLINE] = "5m"  # below the 600 s budget: CS506 is new
    resp = mutate_update(server, old, new)
    assert resp["allowed"] is True and resp["patchType"] == "JSONPatch"
    assert patch_of(resp) == [
        {"op": "replace", "path": "/metadata/annotations/serving.knative.dev~1progress-deadline", "value": "1500s"},
        {"op": "add", "path": "/metadata/annotations/cslint.io~1fixed", "value": "CS506"},
    ]
    assert resp["auditAnnotations"] == {"fixed": "CS506", "preexisting-not-fixed": PREEXISTING}
    assert resp["warnings"] == ["cslint fixed CS506: Set serving.knative.dev/progress-deadline: 1500s"]
    patched = jsonpatch.apply_patch(new, patch_of(resp))
    assert patched["spec"] == new["spec"] and not templates_change(new, patched)  # no rollout
    again = mutate_update(server, old, patched)
    assert "patch" not in again and again["auditAnnotations"] == {"preexisting-not-fixed": PREEXISTING}
    verdict = server.review("/validate", patched, operation="UPDATE", oldObject=old)
    assert verdict["allowed"] is True and not any(w.startswith("CS506") for w in verdict.get("warnings", []))


def test_the_same_update_without_unsafe_fixes_is_not_patched_but_warned():
    """Control: the patch above comes from --unsafe-fixes, not from some other fix."""
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp))
        try:
            old = inference_service(**{DEADLINE: "1500s"})
            new = copy.deepcopy(old)
            new["metadata"]["annotations"][DEADLINE] = "5m"
            resp = mutate_update(srv, old, new)
            assert "patch" not in resp and resp["auditAnnotations"] == {"preexisting-not-fixed": "CS401,CS402,CS403"}
            warned = srv.review("/validate", new, operation="UPDATE", oldObject=old)
            assert warned["allowed"] is True and any(w.startswith("CS506 InferenceService:") for w in warned["warnings"])
        finally:
            srv.stop()


def test_new_finding_whose_fix_rewrites_the_template_takes_the_preexisting_fixes_along(server):
    old = inference_service(**{MODE: "RawDeployment"})
    new = copy.deepcopy(old)
    del new["metadata"]["annotations"][MODE]  # back to Knative (the default): CS506 is new
    assert not templates_change(old, new)
    resp = mutate_update(server, old, new)
    ops = patch_of(resp)
    assert {"op": "add", "path": "/spec/predictor/annotations", "value": {DEADLINE: "1500s"}} in ops
    assert {"op": "replace", "path": "/spec/predictor/model/args/2", "value": "--gpu-memory-utilization=0.8"} in ops
    assert resp["auditAnnotations"] == {"fixed": f"{PREEXISTING},CS506"}  # nothing held back
    patched = jsonpatch.apply_patch(new, ops)
    assert templates_change(new, patched)
    assert patched["metadata"]["annotations"]["cslint.io/fixed"] == f"{PREEXISTING},CS506"
    again = mutate_update(server, old, patched)  # the API server's reinvocation: a fixed point
    assert again == {"uid": "test-uid", "allowed": True}
    verdict = server.review("/validate", patched, operation="UPDATE", oldObject=old)
    assert verdict["allowed"] is True and {w.split()[0] for w in verdict["warnings"]} == {"CS101", "CS102"}
