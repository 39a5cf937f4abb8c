"""UPDATEs of a KServe InferenceService whose /mutate patch hinges on an object-level finding
(CS506, Knative's progress deadline), over real TLS (`cslint serve`).

KServe copies the InferenceService's own `metadata.annotations` (all but min/max-scale and a few
internal keys) onto every component's revision (components/predictor.go:
`utils.Union(sRuntimeAnnotations, annotations, predictorAnnotations)`), so an update that edits
them rolls the pods just as an edit of `spec.predictor` does, and the pre-existing fixes ride
along in the same patch. The patched object, re-reviewed with the same oldObject (as the API
server's reinvocation does), yields no patch.
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


def test_a_top_level_annotation_edit_rolls_the_pods_so_preexisting_fixes_ride_along(server):
    old = inference_service(**{DEADLINE: "1500s"})
    new = copy.deepcopy(old)
    new["metadata"]["annotations"][DEADLINE] = "5m"  # below the 600 s budget: CS506 is new
    assert templates_change(old, new)  # KServe copies the annotation onto the predictor's revision
    resp = mutate_update(server, old, new)
    assert resp["allowed"] is True and resp["patchType"] == "JSONPatch"
    ops = patch_of(resp)
    assert {"op": "replace", "path": "/metadata/annotations/serving.knative.dev~1progress-deadline",
            "value": "1500s"} in ops
    assert {"op": "replace", "path": "/spec/predictor/model/args/2", "value": "--gpu-memory-utilization=0.8"} in ops
    assert resp["auditAnnotations"] == {"fixed": f"{PREEXISTING},CS506"}  # nothing held back
    patched = jsonpatch.apply_patch(new, ops)
    again = mutate_update(server, old, patched)
    assert again == {"uid": "test-uid", "allowed": True}  # a fixed point
    verdict = server.review("/validate", patched, operation="UPDATE", oldObject=old)
    assert verdict["allowed"] is True and not any(w.startswith("CS506") for w in verdict.get("warnings", []))


def test_the_same_update_without_unsafe_fixes_gets_the_safe_fixes_and_a_warning():
    """Control: CS506's fix above comes from --unsafe-fixes; without it the deadline is only warned."""
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp))
        try:
            old = inference_service(**{DEADLINE: "1500s"})
            new = copy.deepcopy(old)
            new["metadata"]["annotations"][DEADLINE] = "5m"
            resp = mutate_update(srv, old, new)  # the pods roll anyway: the safe pre-existing fixes ride along
            assert resp["auditAnnotations"] == {"fixed": "CS401,CS402,CS403"}
            assert not any(op["path"].endswith("progress-deadline") for op in patch_of(resp))
            warned = srv.review("/validate", new, operation="UPDATE", oldObject=old)
            assert warned["allowed"] is True and any(w.startswith("CS506 InferenceService:") for w in warned["warnings"])
        finally:
            srv.stop()


def test_new_finding_whose_fix_rewrites_the_template_takes_the_preexisting_fixes_along(server):
    old = inference_service(**{MODE: "RawDeployment"})
    new = copy.deepcopy(old)
    del new["metadata"]["annotations"][MODE]  # back to Knative (the default): CS506 is new
    assert templates_change(old, new)  # KServe copies deploymentMode onto the revision too (not disallowed)
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
