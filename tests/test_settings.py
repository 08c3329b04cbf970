import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deploy_checks_are_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PRODUCTION="1",
        SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="news.example",
        DATABASE_URL="postgres://dateline:secret@db.internal:5432/dateline",
        REDIS_URL="redis://cache.internal:6379/0",
        AWS_STORAGE_BUCKET_NAME="news-media",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", PRODUCTION="1", SECRET_KEY="", ALLOWED_HOSTS="news.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def settings_value(expression, **env):
    """Evaluate a settings expression in a fresh process with the given environment."""
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1]  # after any log lines


def test_database_url_selects_postgresql():
    db = "settings.DATABASES['default']"
    value = settings_value(
        f"{db}['ENGINE'], {db}['NAME'], {db}['HOST']",
        DATABASE_URL="postgres://u:p@db.internal:5432/dateline",
    )
    assert value == "django.db.backends.postgresql dateline db.internal"
    assert settings_value(f"{db}['ENGINE']") == "django.db.backends.sqlite3"


def test_default_cache_is_shared_between_processes_and_redis_url_selects_redis():
    backend = "settings.CACHES['default']['BACKEND']"
    assert settings_value(backend) == "django.core.cache.backends.filebased.FileBasedCache"
    assert (
        settings_value(backend, REDIS_URL="redis://127.0.0.1:6379/1")
        == "blog.caching.FailOpenRedisCache"
    )
