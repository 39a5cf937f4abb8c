"""The admission webhook: the same rules and the same fixes, applied at the cluster's door.

`admission` turns AdmissionReview dicts into responses (pure, no HTTP), with `ratchet` judging
an UPDATE on what it changes; `server` is the HTTPS front (Starlette on uvicorn, certificate reload
in `tls`, `/readyz` from `readiness`); `manifests` writes the YAML that deploys it.
"""
