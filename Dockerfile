FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SHOPWATCH_DATA_DIR=/data \
    SHOPWATCH_DATABASE_URL=sqlite+aiosqlite:////data/shopwatch.db \
    SHOPWATCH_SCHEMES_FILE=/config/schemes.toml \
    SHOPWATCH_LISTEN_PORT=8080 \
    SHOPWATCH_WORKER_PORT=8081

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY broadcast ./broadcast
COPY config ./config
# The Bot API sandbox, a distribution apart from the product, only so that `shopwatch demo`
# works in the image; `shopwatch run` never uses it.
COPY sandbox ./sandbox
RUN pip install . ./sandbox \
    && useradd --system --uid 10001 --home-dir /data shopwatch \
    && mkdir -p /data /config \
    && chown shopwatch /data

USER shopwatch
VOLUME ["/data"]
EXPOSE 8080 8081
# `shopwatch run` answers on 8080, `shopwatch worker` on 8081: one image, either command.
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)" \
    || python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/healthz', timeout=2)"
CMD ["shopwatch", "run"]
