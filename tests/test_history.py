"""History: every save is a revision an editor can read, compare and restore, thread and
tags included; and nothing a delete, restore or revert touches is lost."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import formats, timezone
from reversion.models import Version

from blog.models import Category, Post, Quote, Source
from tests.admin_forms import form_data
from tests.factories import CategoryFactory, PostFactory, UserFactory, developing_story, quoted

pytestmark = pytest.mark.django_db

CHANGE_LIST = "/admin/blog/post/"


@pytest.fixture
def editor(client):
    user = UserFactory(username="dana", first_name="Dana", last_name="Reyes", is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def story(editor):
    """tests/factories.py's developing story, saved once in the admin so that its first
    revision exists."""
    post = developing_story()
    save_in_admin(editor, post)
    return Post.objects.get(pk=post.pk)


def save_in_admin(client, post, **changes):
    """Open the post's change form, change fields as an editor would, and save it."""
    url = f"{CHANGE_LIST}{post.pk}/change/"
    data = form_data(client.get(url))
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.context and [
        response.context["adminform"].form.errors,
        [formset.errors for formset in response.context["inline_admin_formsets"]],
    ]
    return response


def state(post):
    """Everything of a post a reader or a feed reader would notice if it came back wrong."""
    post = Post.objects.get(pk=post.pk)
    return {
        "slug": post.slug,
        "guid": post.guid,
        "title": post.title,
        "body": post.body,
        "body_html": post.body_html,
        "status": post.status,
        "published_at": post.published_at,
        "is_developing": post.is_developing,
        "tags": sorted(post.tags.names()),
        "quotes": sorted(
            Quote.objects.filter(post=post).values_list(
                "source__name", "text", "position", "update__guid", "url"
            ),
            key=repr,
        ),
        "updates": list(
            post.updates.order_by("pk").values_list(
                "pk", "guid", "kind", "body", "body_html", "published_at"
            )
        ),
    }


def feed_ids(client=None):
    response = (client or Client()).get("/feed/atom/")
    assert response.status_code == 200
    return re.findall(r"<entry>.*?<id>([^<]+)</id>", response.content.decode(), re.S)


def versions_of(post):
    return list(
        Version.objects.get_for_object(post)
        .select_related("revision", "revision__user")
        .order_by("revision__date_created", "pk")
    )


def rewrite(client, post):
    """Change everything a revert must undo: text, a quote, tags, and the thread (one update
    deleted, one edited, one added)."""
    url = f"{CHANGE_LIST}{post.pk}/change/"
    data = form_data(client.get(url))
    data["title"] = "Council passes the budget"
    data["body"] = "The council voted at last.\n\n" + quoted(
        "It passed.", "— Marcus Bell, The Herald"
    )
    data["tags"] = "budget, vote"
    # Inline forms are newest first: 0 is the correction, 1 the first update.
    data["updates-0-DELETE"] = "on"
    data["updates-1-body"] = "The vote moved to Friday."
    extra = int(data["updates-TOTAL_FORMS"]) - 1
    data[f"updates-{extra}-body"] = "Passed, 5 to 4."
    data[f"updates-{extra}-kind"] = "update"
    data[f"updates-{extra}-published_at_0"] = timezone.localtime().strftime("%Y-%m-%d")
    data[f"updates-{extra}-published_at_1"] = timezone.localtime().strftime("%H:%M:%S")
    response = client.post(url, data)
    assert response.status_code == 302, response.context and [
        response.context["adminform"].form.errors,
        [formset.errors for formset in response.context["inline_admin_formsets"]],
    ]


# --- Revisions are made --------------------------------------------------------------


def test_each_save_in_the_admin_is_a_revision_naming_who_made_it(editor, story):
    save_in_admin(editor, story, title="Council still split over the budget")
    versions = versions_of(story)
    assert len(versions) == 2
    assert {version.revision.user.username for version in versions} == {"dana"}
    assert versions[-1].field_dict["title"] == "Council still split over the budget"
    # The revision holds the whole story: every update and every tag with the post.
    models = {v.content_type.model for v in versions[-1].revision.version_set.all()}
    assert {"post", "update", "taggeditem", "tag"} <= models

    page = editor.get(f"{CHANGE_LIST}{story.pk}/history/").content.decode()
    assert page.count("Dana Reyes") >= 2
    assert "Compare the chosen versions" in page


def test_an_update_from_the_live_page_is_a_revision_of_the_story(editor, story):
    response = editor.post(
        f"{story.get_absolute_url()}updates/",
        {"kind": "update", "body": "The mayor weighs in."},
    )
    assert response.status_code == 303
    latest = versions_of(story)[-1]
    bodies = [v.field_dict.get("body") for v in latest.revision.version_set.all()]
    assert "The mayor weighs in." in bodies
    assert latest.revision.user.username == "dana"


def test_sources_and_sections_keep_revisions_too(editor):
    source = Source.objects.create(name="Dana Reyes", slug="dana-reyes")
    section = CategoryFactory(name="Politics", slug="politics")
    for url in (
        f"/admin/blog/source/{source.pk}/change/",
        f"/admin/blog/category/{section.pk}/change/",
    ):
        data = form_data(editor.get(url))
        data["description"] = "Covers city hall."
        assert editor.post(url, data).status_code == 302
    assert Version.objects.get_for_object(Source.objects.get()).count() == 1
    assert Version.objects.get_for_object(Category.objects.get()).count() == 1
    page = editor.get(f"/admin/blog/source/{source.pk}/history/").content.decode()
    assert "dana" in page


# --- Comparing -----------------------------------------------------------------------


def test_comparing_two_versions_shows_a_readable_diff_of_the_markdown(editor, story):
    rewrite(editor, story)
    old, new = versions_of(story)[-2:]
    page = editor.get(f"{CHANGE_LIST}{story.pk}/history/compare/?a={old.pk}&b={new.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    for version in (old, new):  # each side says when it was saved, and by whom
        saved = formats.date_format(
            timezone.localtime(version.revision.date_created), "DATETIME_FORMAT"
        )
        assert f"saved {saved} by Dana Reyes" in html
    assert "<del>So says the Tribune&#x27;s city-hall reporter:</del>" in html
    assert "<ins>The council voted at last.</ins>" in html
    assert "<del>Council split over the budget</del>" in html
    assert "<ins>vote</ins>" not in html  # tags are compared as a list
    assert "budget, council" in html and "budget, vote" in html
    assert "Correction of" in html and "removed" in html
    assert "<ins>Passed, 5 to 4.</ins>" in html
    # Either order gives the same diff, older first.
    swapped = editor.get(f"{CHANGE_LIST}{story.pk}/history/compare/?a={new.pk}&b={old.pk}")
    assert swapped.content.decode().count("<del>") == html.count("<del>")


def test_markdown_in_a_diff_is_shown_as_text_not_run(editor, story):
    save_in_admin(editor, story, body='<script>alert("x")</script>\n\nPlain.')
    old, new = versions_of(story)[-2:]
    html = editor.get(
        f"{CHANGE_LIST}{story.pk}/history/compare/?a={old.pk}&b={new.pk}"
    ).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_a_version_of_another_post_or_nonsense_ids_answer_404(editor, story):
    other = PostFactory()
    save_in_admin(editor, other)
    foreign = versions_of(other)[0]
    assert editor.get(f"{CHANGE_LIST}{story.pk}/history/{foreign.pk}/").status_code == 404
    compare = (
        f"{CHANGE_LIST}{story.pk}/history/compare/?a={foreign.pk}&b={versions_of(story)[0].pk}"
    )
    assert editor.get(compare).status_code == 404
    assert editor.get(f"{CHANGE_LIST}{story.pk}/history/99999999/").status_code == 404
    assert editor.get(f"{CHANGE_LIST}999999/history/compare/").status_code in (403, 404)
    # With no usable pair, the page compares the two latest, or says there is nothing yet.
    response = editor.get(f"{CHANGE_LIST}{story.pk}/history/compare/?a=x&b=99999999999999999999")
    assert "nothing to compare yet" in response.content.decode()
    save_in_admin(editor, story, title="Renamed")
    response = editor.get(f"{CHANGE_LIST}{story.pk}/history/compare/?a=x")
    assert "<ins>Renamed</ins>" in response.content.decode()


# --- Restoring -----------------------------------------------------------------------


def test_restoring_an_old_version_brings_back_text_tags_quotes_and_thread(editor, story):
    before = state(story)
    feed_before = feed_ids()
    rewrite(editor, story)
    changed = state(story)
    assert changed["title"] == "Council passes the budget"
    assert changed["tags"] == ["budget", "vote"]
    assert len(changed["updates"]) == 2 and changed["updates"] != before["updates"]
    assert Source.objects.filter(name="Marcus Bell").exists()

    first = versions_of(story)[0]
    page = editor.get(f"{CHANGE_LIST}{story.pk}/history/{first.pk}/").content.decode()
    assert "Restore this version" in page
    assert "<dd>Council split over the budget</dd>" in page
    assert "<dd>budget, council</dd>" in page
    response = editor.post(f"{CHANGE_LIST}{story.pk}/history/{first.pk}/", follow=True)
    assert "Restored the version of" in response.content.decode()

    assert state(story) == before
    assert feed_ids() == feed_before
    # Readers see the old text at once (the page cache was made stale).
    page = Client().get(story.get_absolute_url()).content.decode()
    assert "Council split over the budget" in page and "Passed, 5 to 4." not in page
    # The restore is itself a revision, and the admin log names it.
    assert len(versions_of(story)) == 3
    assert LogEntry.objects.filter(
        object_id=str(story.pk), change_message__startswith="Restored the version of"
    ).exists()


def test_restoring_is_refused_when_the_old_address_is_now_another_posts(editor, story):
    save_in_admin(editor, story, slug="council-split-budget")
    PostFactory(slug="council-split")
    first = versions_of(story)[0]
    response = editor.post(f"{CHANGE_LIST}{story.pk}/history/{first.pk}/", follow=True)
    assert "Another post now has the address “council-split”" in response.content.decode()
    assert Post.objects.get(pk=story.pk).slug == "council-split-budget"


def test_only_someone_who_may_edit_the_post_can_restore_it(django_user_model, editor, story):
    save_in_admin(editor, story, title="Edited")
    reader = django_user_model.objects.create_user("viewer", is_staff=True)
    reader.user_permissions.set(
        # May read anyone's post, may change none.
        Permission.objects.filter(
            content_type__app_label="blog", codename__in=["view_post", "edit_others_posts"]
        )
    )
    client = Client()
    client.force_login(reader)
    first = versions_of(story)[0]
    url = f"{CHANGE_LIST}{story.pk}/history/{first.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and "Restore this version" not in page.content.decode()
    assert client.post(url).status_code == 403
    assert Post.objects.get(pk=story.pk).title == "Edited"


# --- Nothing is lost -----------------------------------------------------------------


def test_no_data_lost_through_trash_restore_and_revert(editor, story):
    """Delete, restore and revert in turn: quotes, tags, the thread and feed ids come
    back identical every time."""
    original = state(story)
    original_feed = feed_ids()
    assert story.guid in original_feed

    # To the trash and back.
    editor.post(f"{CHANGE_LIST}{story.pk}/delete/", {"post": "yes"})
    assert Client().get(story.get_absolute_url()).status_code == 410
    assert story.guid not in feed_ids()
    editor.post(f"{CHANGE_LIST}?trash=1", {"action": "restore", "_selected_action": [story.pk]})
    assert state(story) == original
    assert feed_ids() == original_feed

    # Rewritten, then reverted from the history.
    rewrite(editor, story)
    assert state(story) != original
    first = versions_of(story)[0]
    editor.post(f"{CHANGE_LIST}{story.pk}/history/{first.pk}/")
    assert state(story) == original
    assert feed_ids() == original_feed

    # Trashed again, restored again, and reverted to the rewrite and back once more.
    editor.post(f"{CHANGE_LIST}{story.pk}/delete/", {"post": "yes"})
    editor.post(f"{CHANGE_LIST}?trash=1", {"action": "restore", "_selected_action": [story.pk]})
    rewritten = next(
        v for v in versions_of(story) if v.field_dict["title"].endswith("passes the budget")
    )
    editor.post(f"{CHANGE_LIST}{story.pk}/history/{rewritten.pk}/")
    assert Post.objects.get(pk=story.pk).title == "Council passes the budget"
    editor.post(f"{CHANGE_LIST}{story.pk}/history/{first.pk}/")
    assert state(story) == original
    assert feed_ids() == original_feed
