# distributed-dialogue: the bot in a small image that runs as a user without privileges.
# Build: docker build -t distributed-dialogue .   (see docs/deployment.md)

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY storage ./storage
COPY exporters ./exporters
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# The PostgreSQL client tools, for `dialogue backup` and `dialogue restore` of PostgreSQL.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client=15.* \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
RUN useradd --system --uid 10001 --home-dir /var/lib/dialogue --create-home dialogue \
    && chmod 0700 /var/lib/dialogue
COPY prompts /opt/dialogue/prompts
COPY resources /opt/dialogue/resources
ENV PYTHONUNBUFFERED=1 \
    DIALOGUE_CONTENT__ROOT=/opt/dialogue \
    DIALOGUE_DATABASE__URL=sqlite+aiosqlite:////var/lib/dialogue/dialogue.db \
    DIALOGUE_HEALTH__LISTEN=127.0.0.1:9464
USER 10001
WORKDIR /var/lib/dialogue
VOLUME ["/var/lib/dialogue"]
# Docker knows healthy (0) and unhealthy (1): a warning or a critical finding is unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "dialogue health > /dev/null || exit 1"]
ENTRYPOINT ["dialogue"]
CMD ["run"]
