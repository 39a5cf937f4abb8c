# The cslint admission webhook image: `cslint serve` on a slim Python base, as a non-root user.
# The base is pinned by digest (python:3.12.4-slim-bookworm); bump tag and digest together.
# Build: docker build -t ghcr.io/cslint/cslint:0.1.0 .
ARG PYTHON_IMAGE=python:3.12.4-slim-bookworm@sha256:f11725aba18c19664a408902103365eaf8013823ffc56270f921d1dc78a198cb

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md* ./
COPY linter ./linter
COPY rules ./rules
RUN python -m venv /opt/cslint \
    && /opt/cslint/bin/pip install ".[serve]" \
    && /opt/cslint/bin/python -m compileall -q /opt/cslint

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/cslint/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /opt/cslint /opt/cslint
RUN groupadd --system --gid 10001 cslint \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin cslint
USER 10001:10001
EXPOSE 8443
ENTRYPOINT ["cslint"]
CMD ["serve", "--tls-cert", "/etc/cslint/tls/tls.crt", "--tls-key", "/etc/cslint/tls/tls.key"]
