# syntax=docker/dockerfile:1
# Tablium's image: the rules engine compiled with mypyc in a build stage (setup.py), then a
# slim runtime that runs as an unprivileged user. `make image` builds it where a Docker
# engine runs; compose.yaml and deploy/k8s/ run it. docs/operations.md has the details.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# A C compiler and libc headers: mypyc compiles poker/'s hot modules (Python's own headers
# are in the image already). Debian packages are not pinned: the base image's tag pins the
# release, and its mirrors drop superseded versions (a pin would break the build on the next
# security update).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/tablium
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE ./
COPY poker/ poker/
COPY protocol/ protocol/
COPY persistence/ persistence/
COPY services/ services/
COPY actors/ actors/
COPY server/ server/
COPY admin/ admin/
COPY loadtest/ loadtest/
COPY players/ players/
COPY rakeback/ rakeback/
COPY api/ api/
COPY clients/__init__.py clients/serving.py clients/
COPY clients/web/ clients/web/
COPY clients/js/src/ clients/js/src/
# setup.py falls back to pure Python when the compile fails; an image must not: check that
# the engine's hot path really is the compiled one (-P: the installed package, not the
# sources in this working directory).
RUN /opt/tablium/bin/pip install . \
    && /opt/tablium/bin/python -P -c "import sys, poker.hand; sys.exit(not poker.hand.__file__.endswith('.so'))"

FROM ${PYTHON_IMAGE} AS runtime
# pg_dump and pg_restore for `tablium backup` / `tablium restore` against PostgreSQL 15
# (a server of a newer major version needs client tools of that version).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tablium \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/tablium --create-home tablium
COPY --from=build /opt/tablium /opt/tablium
ENV PATH=/opt/tablium/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TABLIUM_HOST=0.0.0.0 \
    TABLIUM_WS_PORT=8765 \
    TABLIUM_ADMIN_PORT=8080 \
    TABLIUM_API_PORT=8000 \
    TABLIUM_DATA_DIR=/var/lib/tablium \
    TABLIUM_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/tablium
VOLUME ["/var/lib/tablium"]
EXPOSE 8765 8000 8080
# Over HTTPS when TABLIUM_TLS_CERT_FILE is set, without checking the certificate (it names the
# public host, not 127.0.0.1). With TABLIUM_ADMIN_ALLOWED_NETWORKS, list 127.0.0.1 for it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, ssl, urllib.request as u; tls = bool(os.environ.get('TABLIUM_TLS_CERT_FILE')); u.urlopen('%s://127.0.0.1:%s/healthz' % ('https' if tls else 'http', os.environ.get('TABLIUM_ADMIN_PORT', '8080')), timeout=2, context=ssl._create_unverified_context() if tls else None)"]
# SIGTERM: the server stops taking connections and exits within 5 s (README.md).
STOPSIGNAL SIGTERM
ENTRYPOINT ["tablium"]
CMD ["serve"]
