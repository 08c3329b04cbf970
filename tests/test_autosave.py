"""Autosave's server side: the editor's copy of a post's text, kept while they type."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from blog.models import Autosave
from tests.admin_forms import form_data
from tests.factories import CategoryFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def autosave_url(post_id):
    return reverse("admin:blog_post_autosave", args=[post_id])


def typed(**fields):
    return {"title": "Typed title", "excerpt": "Typed excerpt.", "body": "Typed body.", **fields}


def test_staff_store_get_and_discard_their_copy(staff_client):
    post = PostFactory()
    url = autosave_url(post.pk)
    response = staff_client.post(url, typed(base_version="1"))
    assert response.status_code == 200
    assert response.json()["saved_at"]
    copy = Autosave.objects.get(user=staff_client.user, post=post)
    assert (copy.title, copy.excerpt, copy.body, copy.base_version) == (
        "Typed title",
        "Typed excerpt.",
        "Typed body.",
        1,
    )

    # A later copy replaces it.
    staff_client.post(url, typed(body="Typed more.", base_version="1"))
    assert Autosave.objects.get().body == "Typed more."
    answer = staff_client.get(url)
    assert answer.status_code == 200
    assert answer.json()["body"] == "Typed more." and answer.json()["base_version"] == 1

    assert staff_client.delete(url).status_code == 200
    assert not Autosave.objects.exists()
    assert staff_client.get(url).status_code == 404

    staff_client.post(url, typed())
    assert staff_client.post(url, {"discard": "1"}).status_code == 200
    assert not Autosave.objects.exists()


def test_a_post_not_saved_yet_has_one_copy_cleared_when_it_is_saved(staff_client):
    url = autosave_url("new")
    assert staff_client.post(url, typed(title="A new story")).status_code == 200
    assert Autosave.objects.get(post=None).title == "A new story"

    category = CategoryFactory()
    data = form_data(staff_client.get(reverse("admin:blog_post_add")))
    data.update(title="A new story", slug="a-new-story", category=str(category.pk), body="B.")
    assert staff_client.post(reverse("admin:blog_post_add"), data).status_code == 302
    assert not Autosave.objects.exists()


def test_saving_the_post_clears_the_editors_copy_only(staff_client):
    post = PostFactory()
    other = UserFactory(is_superuser=True)
    Autosave.objects.create(user=other, post=post, body="Someone else's typing.")
    staff_client.post(autosave_url(post.pk), typed())
    change_url = reverse("admin:blog_post_change", args=[post.pk])
    data = form_data(staff_client.get(change_url))
    data["body"] = "Typed body."
    assert staff_client.post(change_url, data).status_code == 302
    assert list(Autosave.objects.values_list("user", flat=True)) == [other.pk]


def test_a_refused_save_keeps_the_copy(staff_client):
    post = PostFactory()
    change_url = reverse("admin:blog_post_change", args=[post.pk])
    data = form_data(staff_client.get(change_url))
    post.title = "Changed meanwhile"
    post.save()
    staff_client.post(autosave_url(post.pk), typed())
    data["body"] = "Typed body."
    assert staff_client.post(change_url, data).status_code == 200
    assert Autosave.objects.filter(user=staff_client.user, post=post).exists()


def test_change_form_tells_the_script_where_and_what_is_kept(staff_client):
    post = PostFactory()
    staff_client.post(autosave_url(post.pk), typed(body='Kept "quoted" <b>text</b>.'))
    page = staff_client.get(reverse("admin:blog_post_change", args=[post.pk])).content.decode()
    assert f'data-url="{autosave_url(post.pk)}"' in page
    assert f'data-key="dateline-autosave:{staff_client.user.pk}:{post.pk}"' in page
    assert 'data-version="1"' in page
    assert "<b>text</b>" not in page  # escaped in the attribute
    assert '<script src="/static/js/autosave.js"' in page
    add_page = staff_client.get(reverse("admin:blog_post_add")).content.decode()
    assert f'data-key="dateline-autosave:{staff_client.user.pk}:new"' in add_page


def test_server_copy_reaches_the_page_intact(staff_client):
    post = PostFactory()
    body = 'Kept "quoted" <b>text</b> & more.\nSecond line.'
    staff_client.post(autosave_url(post.pk), typed(body=body))
    response = staff_client.get(reverse("admin:blog_post_change", args=[post.pk]))
    assert json.loads(response.context["autosave"]["server_copy"])["body"] == body


def test_anonymous_get_a_json_403_not_the_login_page(client):
    post = PostFactory()
    for method in ("get", "post", "delete"):
        response = getattr(client, method)(autosave_url(post.pk))
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        assert "session" in response.json()["error"]
    assert not Autosave.objects.exists()


def test_readers_and_staff_without_rights_cannot_keep_copies(client, django_user_model):
    post = PostFactory()
    reader = django_user_model.objects.create_user("reader", password="x")
    client.force_login(reader)
    assert client.post(autosave_url(post.pk), typed()).status_code == 403
    nobody = UserFactory(username="no-group")  # staff, in no group, no permissions
    client.force_login(nobody)
    assert client.post(autosave_url("new"), typed()).status_code == 403
    # Not allowed to see it, or not allowed to change it: either way nothing is kept.
    assert client.post(autosave_url(post.pk), typed()).status_code in (403, 404)
    assert not Autosave.objects.exists()


def test_posting_without_the_csrf_token_is_refused():
    user = UserFactory(is_superuser=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(autosave_url("new"), typed()).status_code == 403
    assert not Autosave.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "options"])
def test_other_methods_are_405(staff_client, method):
    response = getattr(staff_client, method)(autosave_url("new"))
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, DELETE"


@pytest.mark.parametrize("post_id", ["abc", "-1", "0", "99999999999999999999", "1.5", "999999"])
def test_tampered_or_unknown_ids_are_404(staff_client, post_id):
    assert staff_client.post(autosave_url(post_id), typed()).status_code == 404
    assert staff_client.get(autosave_url(post_id)).status_code == 404
    assert not Autosave.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": "x" * 100_001}, "body is longer than 100,000"),
        ({"title": "x" * 201}, "title is longer than 200"),
        ({"excerpt": "x" * 10_001}, "excerpt is longer than 10,000"),
        ({"base_version": "abc"}, "version"),
        ({"base_version": "99999999999"}, "version"),
    ],
    ids=["body", "title", "excerpt", "version", "huge-version"],
)
def test_oversized_or_tampered_copies_are_400_and_keep_nothing(staff_client, fields, message):
    response = staff_client.post(autosave_url("new"), typed(**fields))
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Autosave.objects.exists()


def test_the_body_limit_is_the_posts(staff_client, settings):
    settings.DATELINE = {**settings.DATELINE, "MAX_BODY_CHARS": 50}
    assert staff_client.post(autosave_url("new"), typed(body="x" * 50)).status_code == 200
    assert staff_client.post(autosave_url("new"), typed(body="x" * 51)).status_code == 400


def test_characters_no_database_takes_are_dropped_not_a_500(staff_client):
    assert staff_client.post(autosave_url("new"), typed(body="Be\x00fore\x0b.")).status_code == 200
    assert Autosave.objects.get().body == "Before."
