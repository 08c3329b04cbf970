"""Production settings: connections, sessions across app servers, JSON logs with request
ids, /healthz and gunicorn's configuration."""

import importlib.util
import json
import logging
import multiprocessing
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client

from blog.logging import JSONFormatter

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "PRODUCTION": "1",
    "SECRET_KEY": "k3Qx9-production-only-secret-7f0c2b5e8d41a96b3e2f1c0d9a8b7c6d5e4f",
    "ALLOWED_HOSTS": "news.example",
    "DATABASE_URL": "postgres://dateline:secret@db.internal:5432/dateline",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


def run_python(code, **env):
    """Run code after django.setup() in a fresh process with exactly this environment."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "PRODUCTION", "LOG_FORMAT", "DEBUG"}
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def setting(expression, **env):
    code = f"from django.conf import settings; print(repr({expression}))"
    return eval(run_python(code, **env).stdout.splitlines()[-1])  # noqa: S307 (our own repr)


# --- Settings -------------------------------------------------------------------------


def test_postgresql_connections_are_kept_open_and_checked_before_reuse():
    db = "settings.DATABASES['default']"
    engine, max_age, checked = setting(
        f"({db}['ENGINE'], {db}['CONN_MAX_AGE'], {db}['CONN_HEALTH_CHECKS'])", **PRODUCTION
    )
    assert engine == "django.db.backends.postgresql"
    assert max_age == 60
    assert checked is True
    assert setting(f"{db}['CONN_MAX_AGE']", **PRODUCTION, CONN_MAX_AGE="0") == 0


def test_sessions_are_rows_in_the_database_read_through_the_shared_redis_cache():
    engine, location = setting(
        "(settings.SESSION_ENGINE, settings.CACHES[settings.SESSION_CACHE_ALIAS]['LOCATION'])",
        **PRODUCTION,
    )
    assert engine == "django.contrib.sessions.backends.cached_db"
    assert location == PRODUCTION["REDIS_URL"]


LOG_SOMETHING = """
import logging
logging.getLogger("dateline.test").warning("Feed %s is late", "politics")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("dateline.test").exception("Ping failed")
"""


def test_production_logs_one_json_object_a_line_on_stdout():
    lines = run_python(LOG_SOMETHING, **PRODUCTION).stdout.splitlines()
    logged = [json.loads(line) for line in lines]  # every line, not only ours, is JSON

    warning, error = (line for line in logged if line["logger"] == "dateline.test")
    assert warning["level"] == "WARNING"
    assert warning["message"] == "Feed politics is late"
    assert warning["request_id"] is None  # outside a request
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", warning["time"])
    assert error["level"] == "ERROR"
    assert "Traceback" in error["exc_info"] and "ZeroDivisionError" in error["exc_info"]


def test_development_logs_stay_readable_text_unless_asked_for_json():
    text = run_python(LOG_SOMETHING).stdout
    assert "WARNING dateline.test [-] Feed politics is late" in text
    assert "ZeroDivisionError" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])

    asked = run_python(LOG_SOMETHING, LOG_FORMAT="json").stdout.splitlines()
    assert "Feed politics is late" in [json.loads(line)["message"] for line in asked]
    readable = run_python(LOG_SOMETHING, **PRODUCTION, LOG_FORMAT="text").stdout
    assert "Feed politics is late" in readable and not readable.startswith("{")


# --- Sessions across app servers --------------------------------------------------------


@pytest.mark.django_db
def test_a_login_made_on_one_app_server_is_good_on_another(django_user_model):
    django_user_model.objects.create_user(
        "editor", password="not-a-real-password", is_staff=True, is_superuser=True
    )
    server_a, server_b = Client(), Client()
    response = server_a.post(
        "/admin/login/?next=/admin/", {"username": "editor", "password": "not-a-real-password"}
    )
    assert response.status_code == 302
    session = server_a.cookies["sessionid"].value

    server_b.cookies["sessionid"] = session
    assert "Site administration" in server_b.get("/admin/").content.decode()
    # The cache is only in front: with it emptied (Redis restarted), the session stands.
    cache.clear()
    assert Session.objects.filter(session_key=session).exists()
    assert "Site administration" in server_b.get("/admin/").content.decode()

    server_a.post("/admin/logout/")
    assert server_b.get("/admin/").status_code == 302  # signed out everywhere


# --- Request ids and access lines -------------------------------------------------------


@pytest.fixture
def json_log():
    """What the root logger writes while the test runs, one parsed object a line."""
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def access_lines(lines):
    return [line for line in lines if line["logger"] == "dateline.request"]


@pytest.mark.django_db
def test_each_answer_names_its_request_and_its_access_line_names_the_same(client, json_log):
    response = client.get("/")

    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = access_lines(json_log())
    assert line["request_id"] == request_id
    assert (line["level"], line["method"], line["path"], line["status"]) == (
        "INFO",
        "GET",
        "/",
        200,
    )
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


@pytest.mark.django_db
def test_the_proxys_request_id_is_kept_so_nginx_and_app_lines_match(client, json_log):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="nginx-7f3a.b_01")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "nginx-7f3a.b_01"
    lines = json_log()
    # Django's own "Not Found" line is written after the middleware returned: same id.
    [not_found] = [line for line in lines if line["logger"] == "django.request"]
    assert not_found["request_id"] == "nginx-7f3a.b_01"
    assert access_lines(lines)[0]["request_id"] == "nginx-7f3a.b_01"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "hostile",
    ["a" * 65, "two words", 'x", "level": "CRITICAL', "<script>", "id\u202eevil", ""],
    ids=["too-long", "space", "json-injection", "markup", "bidi", "empty"],
)
def test_a_hostile_request_id_is_replaced_by_our_own(client, json_log, hostile):
    response = client.get("/", HTTP_X_REQUEST_ID=hostile)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert access_lines(json_log())[0]["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
def test_a_page_from_the_cache_gets_the_id_of_the_request_it_answers(
    client, django_assert_num_queries
):
    first = client.get("/")
    with django_assert_num_queries(0):  # answered from the page cache
        second = client.get("/")
    assert first["X-Request-ID"] != second["X-Request-ID"]


# --- /healthz ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_200_when_database_and_cache_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_database_when_it_is_down_and_never_from_a_cache(client):
    assert client.get("/healthz").status_code == 200
    broken = mock.Mock()
    broken.cursor.side_effect = OperationalError("connection refused")
    with mock.patch("blog.views.connection", broken):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "error: OperationalError",
        "cache": "ok",
    }
    assert client.get("/healthz").status_code == 200  # and recovers by itself


@pytest.mark.django_db
@pytest.mark.parametrize(
    "failure",
    [
        {"set.side_effect": ConnectionError("Redis is down")},
        # A cache that hides its errors answers nothing back.
        {"get.return_value": None},
    ],
    ids=["raises", "silent"],
)
def test_healthz_answers_503_naming_the_cache_when_it_is_down(client, failure):
    with mock.patch("blog.views.cache", mock.Mock(**failure)):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("error", "ok")
    assert body["cache"].startswith("error")


# --- gunicorn --------------------------------------------------------------------------


def gunicorn_config(monkeypatch, cpus, **env):
    for name in ["WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_MAX_REQUESTS_JITTER"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: cpus)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "config/gunicorn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_workers_follow_the_cpu_count_and_the_environment_overrides(monkeypatch):
    two = gunicorn_config(monkeypatch, cpus=2)
    eight = gunicorn_config(monkeypatch, cpus=8)
    assert (two.workers, eight.workers) == (5, 17)
    assert two.threads >= 2 and two.worker_class == "gthread"

    chosen = gunicorn_config(monkeypatch, cpus=8, WEB_CONCURRENCY="3", GUNICORN_THREADS="9")
    assert (chosen.workers, chosen.threads) == (3, 9)


def test_gunicorn_recycles_workers_at_staggered_times_and_leaves_access_lines_to_the_app(
    monkeypatch,
):
    config = gunicorn_config(monkeypatch, cpus=2)
    assert 0 < config.max_requests_jitter < config.max_requests
    assert 0 < config.graceful_timeout <= config.timeout
    assert config.accesslog is None  # dateline.request writes one line per request
    assert config.preload_app is False  # a HUP reloads code; no connection crosses a fork
