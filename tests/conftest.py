import os

import pytest
import redis
from django.core.cache import cache
from hypothesis import settings as hypothesis_settings

# Property tests (tests/test_sanitise.py): 200 examples a test in CI; a failure prints
# the seed and a blob to replay it. HYPOTHESIS_PROFILE=thorough for a long run by hand.
hypothesis_settings.register_profile("ci", max_examples=200, deadline=2_000, print_blob=True)
hypothesis_settings.register_profile("thorough", max_examples=5_000, deadline=2_000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def isolated_media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # A deliberately slow hash is the point in production and only a cost in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis for the tests that need one: CI starts it; elsewhere they skip."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Redis at {url} (.ci/run starts redis-server)")
        return None
    return url


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user(
        "editor", password="not-a-real-password", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    client.user = user
    return client


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    engine = database["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {engine} {database.get('HOST') or database['NAME']}"
