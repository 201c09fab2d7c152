# syntax=docker/dockerfile:1
#
# smsplat image: one image for the three processes
#   smsplat serve --host 0.0.0.0 --port 8000   (HTTP API, default CMD)
#   smsplat projections run                    (projection runner)
#   smsplat worker                             (background worker)
#
# Build from the repository root:  docker build -t smsplat .
#
# NOTE: the build context is the whole repository. Keep a .dockerignore at the
# root excluding at least .git, .venv, data/, .env, __pycache__, .pytest_cache,
# .mypy_cache, .ruff_cache, .hypothesis, build/, dist/ and *.egg-info so the
# context stays small and local secrets are not sent to the builder. The
# builder stage also deletes them, and only /opt/venv reaches the final image.

############################
# Stage 1: build/install into an isolated virtualenv
############################
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

WORKDIR /src
COPY . .
# Drop local artefacts that may be in the context (dev venv, VCS, caches).
RUN rm -rf .git .venv venv data .env build dist ./*.egg-info \
    && find . -type d \( -name __pycache__ -o -name .pytest_cache -o -name .mypy_cache -o -name .ruff_cache -o -name .hypothesis \) -prune -exec rm -rf {} + \
    && pip install --no-cache-dir --upgrade pip \
    && pip install --no-cache-dir .

############################
# Stage 2: runtime
############################
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}"

# Fixed, non-root uid/gid so k8s securityContext (runAsUser 10001) matches.
RUN groupadd --system --gid 10001 smsplat \
    && useradd --system --uid 10001 --gid smsplat --home-dir /home/smsplat \
       --create-home --shell /usr/sbin/nologin smsplat

COPY --from=builder /opt/venv /opt/venv

WORKDIR /home/smsplat
USER 10001:10001

EXPOSE 8000

# Only meaningful for the API process; the compose file disables it for the
# projections/worker containers (same image, no HTTP listener). Kubernetes
# ignores HEALTHCHECK and uses the probes in the manifests instead.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["smsplat", "serve", "--host", "0.0.0.0", "--port", "8000"]
