# The earlylink processors and CLI, for docker-compose users.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY earlylink earlylink
COPY schemas schemas
COPY producers producers
COPY stream_processors stream_processors
COPY sink sink
RUN pip install --no-cache-dir . && useradd --system earlylink
USER earlylink
ENTRYPOINT ["earlylink"]
