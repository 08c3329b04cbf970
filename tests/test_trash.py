"""The trash: a deleted post is gone for readers, comes back intact, and is deleted for good
only by someone allowed to; a quoted source is merged, not deleted."""

import re

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client

from blog.models import LegacyAddress, Post, Quote, Source, Update
from tests.factories import (
    PostFactory,
    SourceFactory,
    developing_story,
)

pytestmark = pytest.mark.django_db

CHANGE_LIST = "/admin/blog/post/"


@pytest.fixture
def story():
    post = developing_story()
    LegacyAddress.objects.create(path="/?p=6", post=post)
    return post


def snapshot(post):
    """Everything of a post that a restore must bring back as it was."""
    post = Post.objects.get(pk=post.pk)
    return {
        "pk": post.pk,
        "slug": post.slug,
        "url": post.get_absolute_url(),
        "guid": post.guid,
        "title": post.title,
        "body_html": post.body_html,
        "status": post.status,
        "published_at": post.published_at,
        "category": post.category_id,
        "is_developing": post.is_developing,
        "tags": sorted(post.tags.names()),
        "quotes": list(
            Quote.objects.filter(post=post)
            .order_by("pk")
            .values_list("pk", "text", "source_id", "position", "update_id", "url")
        ),
        "updates": list(
            post.updates.order_by("pk").values_list("pk", "body", "body_html", "guid", "kind")
        ),
    }


def feed_ids(client):
    """The entry ids of the Atom feed."""
    response = client.get("/feed/atom/")
    assert response.status_code == 200
    return re.findall(r"<entry>.*?<id>([^<]+)</id>", response.content.decode(), re.S)


def trash_in_admin(staff_client, post):
    response = staff_client.post(f"{CHANGE_LIST}{post.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    return response


def run_action(client, action, posts, **data):
    """An action of the change list; restoring and emptying act from the trash's list."""
    selected = [post.pk for post in posts]
    where = CHANGE_LIST if action == "delete_selected" else f"{CHANGE_LIST}?trash=1"
    return client.post(where, {"action": action, "_selected_action": selected, **data}, follow=True)


def logged(post, message):
    return LogEntry.objects.filter(object_id=str(post.pk), change_message=message)


def editor_without_delete_permission(django_user_model):
    user = django_user_model.objects.create_user("author", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="blog",
            codename__in=[
                "view_post",
                "change_post",
                "add_post",
                "publish_post",
                "edit_others_posts",
            ],
        )
    )
    return user


# --- Moving to the trash ------------------------------------------------------------


def test_a_trashed_post_is_gone_for_readers_everywhere(staff_client, story):
    reader = Client()
    url = story.get_absolute_url()
    tribune = Source.objects.get(name="Dana Reyes")
    assert reader.get(url).status_code == 200
    assert "Nobody has the votes." in reader.get(tribune.get_absolute_url()).content.decode()
    assert "Dana Reyes" in reader.get("/sources/").content.decode()

    listing = [
        "/",
        "/category/politics/",
        "/tag/budget/",
        "/feed/",
        "/feed/atom/",
        "/tag/budget/feed/",
        "/sitemap-posts.xml",
        "/search/?q=council",
        "/corrections/",
    ]
    for address in listing:
        assert "council-split" in reader.get(address).content.decode(), address

    response = trash_in_admin(staff_client, story)
    assert "Moved to the trash; restore it from the trash." in response.content.decode()

    response = reader.get(url)
    assert response.status_code == 410
    page = response.content.decode()
    assert "This post has been removed" in page
    assert '<meta name="robots" content="noindex">' in page
    assert "Page not found" not in page
    assert "Nobody has the votes." not in page

    for address in listing:
        response = reader.get(address)
        assert response.status_code == 200, address
        assert "council-split" not in response.content.decode(), address
    # Its quotes leave its sources' pages, feeds and counts.
    for address in [tribune.get_absolute_url(), f"{tribune.get_absolute_url()}feed/"]:
        assert "Nobody has the votes." not in reader.get(address).content.decode(), address
    assert "Dana Reyes" not in reader.get("/sources/").content.decode()
    assert reader.get(f"{url}updates/").status_code == 404
    # Its thread and its old addresses lead nowhere.
    assert reader.get(f"{url}feed/").status_code == 404
    assert reader.get("/", {"p": 6}).status_code == 404
    # Nothing was deleted, and the log says what happened.
    assert Post.objects.filter(pk=story.pk, deleted_at__isnull=False).exists()
    assert logged(story, "Moved to the trash").get().action_flag == CHANGE


def test_delete_selected_moves_posts_to_the_trash(staff_client, story):
    other = PostFactory()
    response = run_action(staff_client, "delete_selected", [story, other])
    assert "Moved 2 post(s) to the trash; restore them from the trash." in response.content.decode()
    assert Post.objects.filter(deleted_at__isnull=False).count() == 2
    assert Client().get(story.get_absolute_url()).status_code == 410
    assert logged(other, "Moved to the trash").exists()


def test_change_list_hides_the_trash_until_asked(staff_client, story):
    kept = PostFactory(title="A story that stays")
    run_action(staff_client, "delete_selected", [story])
    listed = staff_client.get(CHANGE_LIST).content.decode()
    assert "A story that stays" in listed
    assert "Council split over the budget" not in listed
    trash = staff_client.get(CHANGE_LIST, {"trash": "1"}).content.decode()
    assert "Council split over the budget" in trash
    assert "A story that stays" not in trash
    assert kept.deleted_at is None


def test_staff_see_a_trashed_post_marked_as_such(staff_client, story):
    run_action(staff_client, "delete_selected", [story])
    response = staff_client.get(story.get_absolute_url())
    assert response.status_code == 200
    assert "This post is in the trash." in response.content.decode()


def test_a_trashed_draft_is_not_found_rather_than_gone(staff_client):
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None)
    url = draft.get_absolute_url()
    run_action(staff_client, "delete_selected", [draft])
    # Readers never had its address: saying it is gone would tell them it existed.
    assert Client().get(url).status_code == 404


# --- Restoring ------------------------------------------------------------------------


def test_restore_brings_the_post_back_identical(staff_client, story):
    reader = Client()
    before, ids_before = snapshot(story), feed_ids(reader)
    assert story.guid in ids_before
    trash_in_admin(staff_client, story)
    assert story.guid not in feed_ids(reader)

    response = run_action(staff_client, "restore", [story])
    assert "Restored 1 post(s) from the trash." in response.content.decode()

    assert snapshot(story) == before
    assert feed_ids(reader) == ids_before
    page = reader.get(story.get_absolute_url())
    assert page.status_code == 200
    assert "Nobody has the votes." in page.content.decode()
    dana = Source.objects.get(name="Dana Reyes")
    assert "Nobody has the votes." in reader.get(dana.get_absolute_url()).content.decode()
    assert reader.get("/", {"p": 6}).status_code == 301
    assert logged(story, "Restored from the trash").get().action_flag == CHANGE


# --- Emptying the trash -----------------------------------------------------------------


def test_emptying_the_trash_deletes_for_good(staff_client, story):
    live = PostFactory(title="Not in the trash")
    run_action(staff_client, "delete_selected", [story])
    response = run_action(staff_client, "empty_trash", [story, live])
    assert "Deleted 1 post(s) for good." in response.content.decode()
    assert not Post.objects.filter(pk=story.pk).exists()
    assert not Update.objects.filter(post_id=story.pk).exists()
    assert not Quote.objects.filter(post_id=story.pk).exists()
    # A post not in the trash is never deleted by it.
    assert Post.objects.filter(pk=live.pk).exists()
    assert logged(story, "Deleted for good from the trash").get().action_flag == DELETION
    assert Client().get(story.get_absolute_url()).status_code == 404


def test_emptying_the_trash_needs_the_delete_permission(client, django_user_model, story):
    author = editor_without_delete_permission(django_user_model)
    client.force_login(author)
    # Moving to the trash is an edit anyone who may change the post can undo.
    response = run_action(client, "delete_selected", [story])
    assert "Moved 1 post(s) to the trash" in response.content.decode()
    trash = client.get(CHANGE_LIST, {"trash": "1"}).content.decode()
    assert 'value="restore"' in trash
    assert 'value="empty_trash"' not in trash

    response = run_action(client, "empty_trash", [story])
    assert response.status_code == 200
    assert "No action selected." in response.content.decode()
    assert Post.objects.filter(pk=story.pk).exists()
    assert not logged(story, "Deleted for good from the trash").exists()


def test_a_trashed_post_cannot_be_deleted_again_from_its_delete_page(staff_client, story):
    run_action(staff_client, "delete_selected", [story])
    assert staff_client.post(f"{CHANGE_LIST}{story.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Post.objects.filter(pk=story.pk).exists()


# --- Sources --------------------------------------------------------------------------


def test_a_quoted_source_is_not_deleted_but_merged(staff_client, story):
    dana = Source.objects.get(name="Dana Reyes")
    response = staff_client.post(
        f"/admin/blog/source/{dana.pk}/delete/", {"post": "yes"}, follow=True
    )
    page = response.content.decode()
    assert "“Dana Reyes” is quoted 2 time(s), so it was not deleted." in page
    assert "Merge it into another source instead" in page

    response = staff_client.post(
        "/admin/blog/source/",
        {"action": "delete_selected", "_selected_action": [dana.pk], "post": "yes"},
        follow=True,
    )
    assert "“Dana Reyes” is quoted 2 time(s)" in response.content.decode()
    assert Source.objects.filter(pk=dana.pk).exists()
    # A trashed post's quotes still count: restoring it needs its sources.
    run_action(staff_client, "delete_selected", [story])
    staff_client.post(f"/admin/blog/source/{dana.pk}/delete/", {"post": "yes"})
    assert Source.objects.filter(pk=dana.pk).exists()


def test_a_source_nobody_quotes_is_deleted(staff_client):
    lonely, other = SourceFactory(), SourceFactory()
    staff_client.post(f"/admin/blog/source/{lonely.pk}/delete/", {"post": "yes"})
    assert not Source.objects.filter(pk=lonely.pk).exists()
    staff_client.post(
        "/admin/blog/source/",
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )
    assert not Source.objects.filter(pk=other.pk).exists()


# --- The page cache -------------------------------------------------------------------


def test_a_cached_post_page_is_gone_at_once_and_back_at_once(settings, staff_client, story):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 300}
    reader, url = Client(), story.get_absolute_url()
    assert reader.get(url).status_code == 200
    assert reader.get(url).status_code == 200  # from the cache now
    run_action(staff_client, "delete_selected", [story])
    assert reader.get(url).status_code == 410
    run_action(staff_client, "restore", [story])
    response = reader.get(url)
    assert response.status_code == 200
    assert "Council split over the budget" in response.content.decode()
