# Dateline's image: the web app under gunicorn, and (with another command) the task worker.
# docker-compose.yml runs it; every setting comes from the environment (.env.example).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# `manage.py backup`/`restore` need pg_dump/pg_restore of the server's major version
# (PostgreSQL 16 in docker-compose.yml), from PostgreSQL's own Debian repository.
ARG PG_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" \
    && apt-get purge -y curl && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first: they change less often than the code, so this layer stays cached.
COPY pyproject.toml requirements.lock ./
RUN pip install --no-cache-dir --constraint requirements.lock . && rm -rf build *.egg-info

COPY . .

# The app never runs as root. It may write only where it must: collected static files
# (collectstatic runs at start), uploads, the file cache when Redis is not set, backups.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home dateline \
    && mkdir -p staticfiles media .cache /backups \
    && chown -R dateline:dateline staticfiles media .cache /backups
USER dateline

EXPOSE 8000
# docker-compose.yml's web service runs the same steps; this is for `docker run` alone.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py collectstatic --noinput && exec gunicorn -c config/gunicorn.py config.wsgi"]
