# The service image: `connections serve` by default, `connections worker` as the command
# of a worker container. Configuration comes from the environment (see `connections config`).
# 3.11.10 and later carry the fix for CVE-2024-6923 (headers injected through encoded-words);
# the service guards its mail headers itself too (service.mail.headers), on any release.
FROM python:3.11.13-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
COPY domain ./domain
COPY adapters ./adapters
COPY service ./service
RUN python -m venv /opt/venv && /opt/venv/bin/pip install .

FROM python:3.11.13-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json
RUN useradd --system --uid 10001 --create-home --home-dir /app app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER app
EXPOSE 8000
# Exec form: the server gets SIGTERM itself and shuts down gracefully.
CMD ["connections", "serve", "--host", "0.0.0.0"]
