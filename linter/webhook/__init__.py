"""The admission webhook: the same rules and the same fixes, applied at the cluster's door.

`admission` turns AdmissionReview dicts into responses (pure, no HTTP); `server` is the HTTPS
front (Starlette on uvicorn, certificate reload); `manifests` writes the YAML that deploys it.
"""
