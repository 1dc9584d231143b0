FROM python:3.11-slim

# The radio is in the image by default: a scheme turns its radio on in the schemes file,
# not by rebuilding, and `shopwatch doctor` checks it there. `--build-arg EXTRAS=` builds
# a chat-only image (about 250 MB smaller); `--build-arg EXTRAS=radio,whisper` adds Whisper.
ARG EXTRAS=radio

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SHOPWATCH_DATA_DIR=/data \
    SHOPWATCH_DATABASE_URL=sqlite+aiosqlite:////data/shopwatch.db \
    SHOPWATCH_SCHEMES_FILE=/config/schemes.toml \
    SHOPWATCH_LISTEN_PORT=8080 \
    SHOPWATCH_WORKER_PORT=8081

# Mumble's codec and the small speech engine come from Debian, not from pip.
RUN case ",${EXTRAS}," in \
      *,radio,*) apt-get update \
        && apt-get install -y --no-install-recommends libopus0 espeak-ng \
        && rm -rf /var/lib/apt/lists/* ;; \
    esac

WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md schemes.example.toml ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY broadcast ./broadcast
COPY config ./config
# The Bot API sandbox, a distribution apart from the product, only so that `shopwatch demo`
# works in the image; `shopwatch run` never uses it.
COPY sandbox ./sandbox
RUN pip install ".${EXTRAS:+[$EXTRAS]}" ./sandbox \
    && useradd --system --uid 10001 --home-dir /data shopwatch \
    && mkdir -p /data /config \
    && chown shopwatch /data

USER shopwatch
VOLUME ["/data"]
EXPOSE 8080 8081
# Asks /healthz on SHOPWATCH_LISTEN_PORT (`shopwatch run`) and SHOPWATCH_WORKER_PORT
# (`shopwatch worker`), as the container's settings give them: one image, either command.
HEALTHCHECK --interval=30s --timeout=5s CMD ["shopwatch", "healthcheck"]
CMD ["shopwatch", "run"]
