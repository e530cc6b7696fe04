# The reconciler daemon: `reconciler run` as a non-root user, its SQLite state on /data.
# Configure with RECONCILER_* variables (or a mounted reconciler.toml via RECONCILER_CONFIG):
#   RECONCILER_REPO, RECONCILER_N8N_URL, RECONCILER_N8N_API_KEY, RECONCILER_SECRETS_DIR,
#   RECONCILER_WEBHOOK_SECRET, RECONCILER_GIT_TOKEN (https) - see docs/operations.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
RUN pip install . && rm -rf /src

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin reconciler \
    && mkdir -p /data && chown reconciler:reconciler /data
VOLUME ["/data"]
WORKDIR /data
USER reconciler

# Inside its own network namespace the dashboard's clients are never loopback: publish
# the port on the host's loopback (-p 127.0.0.1:8787:8787) instead.
ENV RECONCILER_STATE=/data/reconciler.sqlite \
    RECONCILER_LISTEN=0.0.0.0:8787 \
    RECONCILER_UI_ALLOW_REMOTE=1 \
    RECONCILER_LOG_FORMAT=json \
    XDG_CACHE_HOME=/data/cache
EXPOSE 8787

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8787/healthz', timeout=3).status == 200 else 1)"]

# SIGTERM lets the step in flight finish, then the daemon exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["reconciler"]
CMD ["run"]
