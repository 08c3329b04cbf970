"""A Redis that is down or hung costs readers speed, never a page (FailOpenRedisCache)."""

import socket
import time

import pytest
from django.core.cache import cache

from tests.factories import PostFactory, UpdateFactory

BACKEND = "blog.caching.FailOpenRedisCache"


@pytest.fixture
def dead_redis(settings):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    settings.CACHES = {"default": {"BACKEND": BACKEND, "LOCATION": "redis://127.0.0.1:1/0"}}
    yield


@pytest.fixture
def hung_redis(settings):
    # Accepts connections (the kernel's backlog) but never answers.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    settings.CACHES = {"default": {"BACKEND": BACKEND, "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    yield
    listener.close()


@pytest.mark.django_db
def test_pages_are_made_from_the_database_while_redis_is_down(client, dead_redis):
    story = PostFactory(title="Council split", is_developing=True)
    UpdateFactory(post=story, body="The vote is delayed.")
    for url in ["/", story.get_absolute_url(), "/feed/", f"{story.get_absolute_url()}updates/"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "The vote is delayed." in client.get(story.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_an_edit_made_while_redis_is_down_shows_at_once(client, dead_redis):
    story = PostFactory(title="Council split")
    assert "Council split" in client.get(story.get_absolute_url()).content.decode()
    story.title = "Council agrees"
    story.save()
    assert "Council agrees" in client.get(story.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_healthz_still_reports_the_cache_down(client, dead_redis):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["cache"] != "ok"


def test_a_hung_redis_is_given_up_on_quickly(hung_redis):
    started = time.monotonic()
    assert cache.get("anything", "missing") == "missing"
    cache.set("anything", 1)  # no error, no second wait
    assert cache.get_many(["a", "b"]) == {}
    assert time.monotonic() - started < 2


def test_redis_is_asked_again_a_moment_after_a_failure(settings, redis_url):
    if redis_url is None:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI starts one)")
    settings.CACHES = {"default": {"BACKEND": BACKEND, "LOCATION": redis_url}}
    cache.set("failover-test", "kept")
    cache.down_until = time.monotonic() + 60  # as after a failed call
    assert cache.get("failover-test") is None
    cache.down_until = time.monotonic() - 1  # the pause is over
    assert cache.get("failover-test") == "kept"
    cache.delete("failover-test")
