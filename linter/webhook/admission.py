"""AdmissionReview in, AdmissionReview out: the webhook's decisions, with no HTTP in sight.

The admitted object goes through the same `Linter.lint_object` as a file's objects, and the
mutation is the rules' own RFC 6902 operations, chosen per pass by the fixer's `select_fixes`
and re-linted to a fixed point — so a patched object re-reviewed yields an empty patch.

On UPDATE (update-policy new-only) the decision is about what the update brings: findings the
old object already had (`ratchet`) do not deny, and are patched only when the update rewrites the
pod template anyway — a fix on an unrelated update (a label) would restart every replica. An
object that a reviewed controller made from its template (a ReplicaSet's Pod) is answered at its
owner's review (`owners`), neither denied nor patched.
"""
from __future__ import annotations

import base64
import copy
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import jsonpatch

from ..engine import Linter
from ..fixer import plan_operations, select_fixes
from ..model import Applicability, Finding
from ..settings import Settings
from ..workloads import K8sObject
from .owners import judged_owner
from .policy import WebhookPolicy
from .ratchet import Baseline, old_object, templates_change

log = logging.getLogger("cslint.webhook")

REVIEW_API_VERSION = "admission.k8s.io/v1"
# the versions an answer can be sent in: the API server decodes the answer as the version it sent
# (v1beta1 has the same response fields; cslint reviews v1 only, `cslint webhook manifests` asks for it)
ANSWERABLE_VERSIONS = (REVIEW_API_VERSION, "admission.k8s.io/v1beta1")
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")
FIXED_ANNOTATION = "cslint.io/fixed"
WARNING_MAX = 120  # the length the API server asks warnings to keep to
WARNING_MAX_ALONE = 256  # longer ones may be truncated
WARNINGS_MAX_COUNT = 30  # 30 × 121 stays under the 4096-character total the API server keeps
DENY_LISTED = 10
DENY_LINE_MAX = 300


class BadReview(ValueError):
    """The body is not an AdmissionReview this webhook can judge.

    `uid` is set when the body still says which request it is about (kind AdmissionReview and a
    readable `request.uid`): the answer then goes back in an AdmissionReview (`Admission.malformed`),
    in `api_version`, because the API server treats any other HTTP status as a failed call and
    applies failurePolicy without showing the reason. Without a uid there is nothing to answer: HTTP 400."""

    def __init__(self, message: str, uid: str | None = None, api_version: str = REVIEW_API_VERSION):
        super().__init__(message)
        self.uid, self.api_version = uid, api_version


class FixesDidNotConverge(RuntimeError):
    """The fixes keep finding work: a cslint bug, fully described by its one-line message (the
    codes involved), so it is logged without a traceback."""


@dataclass
class Outcome:
    """The AdmissionReview to send back, plus what the metrics need to know about it."""

    review: dict[str, Any]
    verdict: str  # allowed | warned | denied | patched | exempt | skipped | error | malformed
    findings: list[Finding] = field(default_factory=list)


@dataclass
class AdmittedDocument:
    """The face of a `Document` that the engine and the annotation suppressions read."""

    data: Any
    file: str = "<admission>"
    index: int = 0


def parse_review(body: bytes) -> dict[str, Any]:
    """Decode and check the envelope; every problem is a one-line BadReview, with the uid to
    answer when the body has one."""
    try:
        review = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadReview(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadReview("request body is nested too deeply") from None
    if not isinstance(review, dict):
        raise BadReview("request body must be a JSON object (an AdmissionReview)")
    problem = _envelope_problem(review)
    if problem:
        raise BadReview(problem, *_reply_address(review))
    return review


def _envelope_problem(review: dict[str, Any]) -> str | None:
    api_version, kind = review.get("apiVersion"), review.get("kind")
    if api_version != REVIEW_API_VERSION or kind != "AdmissionReview":
        hint = "; set admissionReviewVersions: [v1] in the webhook configuration" \
            if kind == "AdmissionReview" and api_version in ANSWERABLE_VERSIONS else ""
        return (f"expected apiVersion {REVIEW_API_VERSION} and kind AdmissionReview, "
                f"got {str(api_version)[:60]!r} / {str(kind)[:60]!r}{hint}")
    request = review.get("request")
    if not isinstance(request, dict):
        return "AdmissionReview has no request object"
    if not isinstance(request.get("uid"), str) or not request["uid"]:
        return "request.uid is missing"
    operation = request.get("operation")
    if operation not in OPERATIONS:
        return f"request.operation must be one of {', '.join(OPERATIONS)}, got {str(operation)[:40]!r}"
    if operation in ("CREATE", "UPDATE") and not isinstance(request.get("object"), dict):
        return f"request.object is missing or not an object ({operation} requires one)"
    return None


def _reply_address(review: dict[str, Any]) -> tuple[str | None, str]:
    """The uid an answer to a malformed review carries and the version it is sent in; no uid when
    the body does not say it is an AdmissionReview about one request."""
    request = review.get("request")
    uid = request.get("uid") if isinstance(request, dict) else None
    if review.get("kind") != "AdmissionReview" or not isinstance(uid, str) or not uid:
        return None, REVIEW_API_VERSION
    version = review.get("apiVersion")
    return uid, version if version in ANSWERABLE_VERSIONS else REVIEW_API_VERSION


def response(request: dict[str, Any], allowed: bool, api_version: str = REVIEW_API_VERSION,
             **fields: Any) -> dict[str, Any]:
    body = {"uid": request["uid"], "allowed": allowed}
    body.update({k: v for k, v in fields.items() if v})
    return {"apiVersion": api_version, "kind": "AdmissionReview", "response": body}


class Admission:
    """Validation and mutation for one configuration; holds the Linter so rules load once."""

    def __init__(self, settings: Settings, policy: WebhookPolicy):
        self.policy = policy
        self.settings = settings.with_(schema=settings.schema and policy.schema)
        self.linter = Linter(self.settings)
        self.required = Applicability.UNSAFE if policy.unsafe_fixes else Applicability.SAFE

    # -- entry points -------------------------------------------------------------------------
    def validate(self, review: dict[str, Any]) -> Outcome:
        request = review["request"]
        passed = self._pass_through(request)
        if passed:
            return passed
        try:
            findings = self.lint(request["object"])
            blocking, preexisting = self._blocking(request, findings)
        except Exception as exc:  # one bad request must not take the webhook down
            return self._internal_error(request, exc)
        return self._verdict(request, findings, blocking, preexisting)

    def mutate(self, review: dict[str, Any]) -> Outcome:
        request = review["request"]
        passed = self._pass_through(request)
        if passed:
            return passed
        try:
            ops, fixed, held = self._mutation_plan(request)
        except Exception as exc:
            return self._internal_error(request, exc)
        kept = _annotations(**{"preexisting-not-fixed": _codes(held)})
        if not ops:
            return Outcome(response(request, True, auditAnnotations=kept), "allowed")
        titles = [f"cslint fixed {f.code}: {f.fix.title}" for f in fixed if f.fix]
        if self.policy.mode == "audit":  # report what would change, change nothing
            return Outcome(response(request, True, auditAnnotations={"would-fix": _codes(fixed), **kept}),
                           "allowed", fixed)
        patch = base64.b64encode(json.dumps(ops, separators=(",", ":")).encode()).decode()
        return Outcome(response(request, True, patchType="JSONPatch", patch=patch,
                                warnings=_warnings(titles), auditAnnotations={"fixed": _codes(fixed), **kept}),
                       "patched", fixed)

    def malformed(self, bad: BadReview) -> Outcome:
        """The answer to a review that names its request (`bad.uid`) but cannot be judged: a
        request.object that is a list, an unknown operation, admission.k8s.io/v1beta1. cslint
        cannot check the object, as with an internal error, so failure-mode decides, for /validate
        and /mutate alike: open admits it unpatched with a warning, closed denies it with status
        400. Either way the reason reaches the user, where an HTTP 400 would reach only the API
        server's log (and its failurePolicy)."""
        log.warning("request uid=%s: malformed AdmissionReview, not checked: %s", bad.uid, bad)
        request = {"uid": bad.uid}
        if self.policy.failure_mode == "open":
            # one warning whose point is the reason: clipped where the API server may truncate (256),
            # not at the 120 that keeps many findings readable
            note = _clip(f"cslint did not check this object: malformed AdmissionReview: {bad}", WARNING_MAX_ALONE)
            return Outcome(response(request, True, bad.api_version, warnings=[note]), "malformed")
        status = {"code": 400, "reason": "BadRequest",
                  "message": f"cslint cannot check this object: malformed AdmissionReview: {bad} "
                             f"(failure-mode is closed)"}
        return Outcome(response(request, False, bad.api_version, status=status), "malformed")

    # -- linting and fixing -------------------------------------------------------------------
    def lint(self, data: dict[str, Any]) -> list[Finding]:
        """Findings of one admitted object, annotation suppressions applied, suppressed ones dropped."""
        doc = AdmittedDocument(data)
        findings = self.linter.lint_object(K8sObject(data, "", doc))
        if self.policy.annotation_suppressions and not self.settings.disallow_suppressions:
            suppress_by_annotations(findings, doc)
        return [f for f in findings if not f.suppressed]

    def plan_patch(self, data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Finding]]:
        """The rules' own operations, pass after pass, until no fix applies (bounded)."""
        ops, fixed, _ = self._plan(data, None)
        return ops, fixed

    def _plan(self, data: dict[str, Any],
              baseline: Baseline | None) -> tuple[list[dict[str, Any]], list[Finding], list[Finding]]:
        """`plan_patch`, leaving alone the findings `baseline` holds; those come back third.

        Each pass applies every fix that does not conflict (all containers at once), so the
        number of passes follows how fixes chain (CS405's volume after CS401's), not the number
        of containers. A pass that brings back an earlier state can never converge: it is
        reported at once rather than after the last allowed pass."""
        current, ops, fixed, seen = data, [], [], {_state(data)}
        for n in range(1, self.policy.max_fix_passes + 1):
            fixable, held = self.lint(current), []
            if baseline is not None:
                fixable, held = baseline.split(fixable, current)
            chosen = [f for f in select_fixes(fixable, self.required).get(0, []) if f.fix.operations]
            if not chosen:
                if ops and self.policy.annotate_fixes:
                    ops.extend(annotation_ops(data, fixed))
                return ops, fixed, [f for f in held if f.fix and f.fix.applicability >= self.required]
            step = [dict(op) for op in plan_operations(chosen)]
            current = jsonpatch.apply_patch(current, step)  # a copy: the request stays untouched
            ops.extend(step)
            fixed.extend(chosen)
            state = _state(current)
            if state in seen:
                raise FixesDidNotConverge(f"fixes did not converge: pass {n} brings back an earlier state "
                                          f"({_codes(chosen, ', ')})")
            seen.add(state)
        raise FixesDidNotConverge(f"fixes did not converge after {self.policy.max_fix_passes} passes "
                                  f"({_codes(fixed, ', ')})")

    # -- UPDATE: what the update brings --------------------------------------------------------
    def baseline(self, request: dict[str, Any]) -> Baseline | None:
        """The old object's findings, when this request is judged on what it changes; else None.

        None (judged like a CREATE) for update-policy all, for CREATE, and for an oldObject that
        is missing, not an object, of another kind, or that the rules cannot lint."""
        old = old_object(request) if self.policy.update_policy == "new-only" else None
        if old is None:
            return None
        try:
            return Baseline.of(self.lint(old), old)
        except Exception as exc:  # the new object linted: judge it whole rather than fail the request
            log.warning("request uid=%s: oldObject not linted (%s: %s); judged as a CREATE",
                        request["uid"], type(exc).__name__, exc)
            return None

    def _blocking(self, request: dict[str, Any], findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(findings that deny, findings that would deny but the old object already had)."""
        if self.policy.mode != "enforce":
            return [], []
        blocking = [f for f in findings if f.severity >= self.settings.fail_on]
        baseline = self.baseline(request) if blocking else None  # lint oldObject only when it matters
        return baseline.split(blocking, request["object"]) if baseline is not None else (blocking, [])

    def _mutation_plan(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Finding], list[Finding]]:
        """The patch for this request. When the update leaves the pod templates alone but a fix of
        what it brings rewrites one (a KServe deploymentMode switched to Knative: the deadline
        goes into the predictor), the patch rolls the pods itself — so the pre-existing fixes
        ride along now, not on the re-review of the patched object."""
        baseline = self._mutation_baseline(request)
        obj = request["object"]
        ops, fixed, held = self._plan(obj, baseline)
        if baseline is not None and ops and templates_change(obj, jsonpatch.apply_patch(obj, ops)):
            return self._plan(obj, None)
        return ops, fixed, held

    def _mutation_baseline(self, request: dict[str, Any]) -> Baseline | None:
        """What /mutate leaves alone: nothing, unless the update keeps every pod template as it was."""
        old = old_object(request) if self.policy.update_policy == "new-only" else None
        if old is None or templates_change(old, request["object"]):
            return None  # a rollout happens anyway: pre-existing fixes ride along at no extra cost
        return self.baseline(request)

    # -- decisions ----------------------------------------------------------------------------
    def _pass_through(self, request: dict[str, Any]) -> Outcome | None:
        """The answer to a request allowed without linting, or None to lint it."""
        verdict = self._unlinted(request)
        if verdict:
            return Outcome(response(request, True), verdict)
        owner = judged_owner(request["object"])
        if owner:  # no warning: it would go to the controller's log on every Pod it creates
            return Outcome(response(request, True, auditAnnotations={"skipped": "controller-owned", "owner": owner}),
                           "skipped")
        return None

    def _unlinted(self, request: dict[str, Any]) -> str | None:
        """Why a request needs no look at the object at all (skipped, exempt), or None."""
        operation = request["operation"]
        if operation in ("DELETE", "CONNECT") or request.get("subResource"):
            return "skipped"
        obj = request["object"]
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if operation == "UPDATE" and (metadata.get("deletionTimestamp") or obj.get("kind") == "Pod"):
            return "skipped"  # a terminating object, or a Pod whose spec is immutable anyway
        namespace = request.get("namespace") or metadata.get("namespace")
        name = request.get("name") or metadata.get("name") or metadata.get("generateName")
        kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
        if self.policy.is_exempt(kind, namespace, name):
            return "exempt"
        return None

    def _verdict(self, request: dict[str, Any], findings: list[Finding], blocking: list[Finding],
                 preexisting: list[Finding]) -> Outcome:
        if not findings:
            return Outcome(response(request, True), "allowed")
        if self.policy.mode == "audit":
            return Outcome(response(request, True, auditAnnotations={"findings": _codes(findings)}),
                           "allowed", findings)
        held = {id(f) for f in blocking + preexisting}
        texts = [warning_text(f, preexisting=True) for f in preexisting]
        warnings = _warnings(texts + [warning_text(f) for f in findings if id(f) not in held])
        annotations = _annotations(preexisting=_codes(preexisting))
        if not blocking:
            return Outcome(response(request, True, warnings=warnings, auditAnnotations=annotations), "warned", findings)
        status = {"code": 403, "reason": "Forbidden", "message": denial_message(request, blocking)}
        return Outcome(response(request, False, status=status, warnings=warnings,
                                auditAnnotations={"findings": _codes(findings), **annotations}), "denied", findings)

    def _internal_error(self, request: dict[str, Any], exc: Exception) -> Outcome:
        log.error("internal error on request uid=%s: %s: %s", request["uid"], type(exc).__name__, exc,
                  exc_info=None if isinstance(exc, FixesDidNotConverge) else exc)
        if self.policy.failure_mode == "open":
            return Outcome(response(request, True, warnings=["cslint could not check this object (internal error); "
                                                             "admitted because failure-mode is open"]), "error")
        status = {"code": 500, "reason": "InternalError",
                  "message": f"cslint internal error (request uid {request['uid']}); failure-mode is closed"}
        return Outcome(response(request, False, status=status), "error")


def suppress_by_annotations(findings: list[Finding], doc: AdmittedDocument) -> None:
    """`cslint.io/ignore` annotations, matched exactly as `cslint check` matches them."""
    from ..suppressions import annotation_suppressions, covers
    directives = list(annotation_suppressions(doc))  # type: ignore[arg-type]
    if not directives:
        return
    for f in findings:
        if any(covers(s, f) and s.matches(f.code) for s in directives):
            f.suppressed = True


def annotation_ops(data: dict[str, Any], fixed: list[Finding]) -> list[dict[str, Any]]:
    """Record the fixed codes on the object, merged with any earlier record."""
    metadata = data.get("metadata")
    codes = {f.code for f in fixed}
    if not isinstance(metadata, dict):
        return [{"op": "add", "path": "/metadata", "value": {"annotations": {FIXED_ANNOTATION: ",".join(sorted(codes))}}}]
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        return [{"op": "add", "path": "/metadata/annotations", "value": {FIXED_ANNOTATION: ",".join(sorted(codes))}}]
    earlier = annotations.get(FIXED_ANNOTATION)
    if isinstance(earlier, str):
        codes |= {c for c in earlier.split(",") if c}
    key = FIXED_ANNOTATION.replace("~", "~0").replace("/", "~1")
    return [{"op": "add", "path": f"/metadata/annotations/{key}", "value": ",".join(sorted(codes))}]


def _where(f: Finding) -> str:
    return f"container {f.container}" if f.container else (f.object.kind if f.object else "object")


def warning_text(f: Finding, preexisting: bool = False) -> str:
    return f"{f.code} {_where(f)}{' (pre-existing)' if preexisting else ''}: {f.message}"


def denial_message(request: dict[str, Any], blocking: list[Finding]) -> str:
    """Bounded: the first findings with code, container, path and fix, then a count of the rest."""
    obj = request["object"]
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or request.get("name") or (f"{meta['generateName']}*" if meta.get("generateName") else "-")
    lines = [f"cslint denied {obj.get('kind', 'object')} {name}: {len(blocking)} finding(s) at or above fail-on"]
    for f in blocking[:DENY_LISTED]:
        fix = f" (fix: {f.fix.title})" if f.fix else ""
        lines.append(_clip(f"- {f.code} {_where(f)} at {f.path or '/'}: {f.message}{fix}", DENY_LINE_MAX))
    if len(blocking) > DENY_LISTED:
        lines.append(f"- … and {len(blocking) - DENY_LISTED} more (run `cslint check` on the manifest)")
    return "\n".join(lines)


def _warnings(texts: Any) -> list[str]:
    out = [_clip(t, WARNING_MAX) for t in texts]
    if len(out) > WARNINGS_MAX_COUNT:
        more = len(out) - WARNINGS_MAX_COUNT + 1
        out = out[:WARNINGS_MAX_COUNT - 1] + [f"… and {more} more cslint findings"]
    return out


def _annotations(**values: str) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}


def _codes(findings: list[Finding], sep: str = ",") -> str:
    return sep.join(sorted({f.code for f in findings}))


def _state(data: dict[str, Any]) -> str:
    """An object's content as a comparable string, to spot a fix loop that goes round in circles."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def review_for(obj: dict[str, Any], operation: str = "CREATE", uid: str = "test-uid", **request: Any) -> dict[str, Any]:
    """An AdmissionReview as the API server sends it: for tests, benchmarks and `--dry-run` use."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    body = {"uid": uid, "operation": operation, "object": copy.deepcopy(obj), "oldObject": None,
            "namespace": meta.get("namespace", "default"), "name": meta.get("name"),
            "userInfo": {"username": "tester"}, "dryRun": False}
    body.update(request)
    return {"apiVersion": REVIEW_API_VERSION, "kind": "AdmissionReview", "request": body}
