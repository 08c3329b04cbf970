"""The developing-story thread: the live endpoint, staff updates, corrections, dates."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from blog.models import Post, Update
from tests.factories import PostFactory, UpdateFactory, UserFactory, quoted

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    return PostFactory(
        slug="vote-delayed",
        title="Vote delayed",
        is_developing=True,
        published_at=timezone.now() - timedelta(hours=6),
    )


def updates_url(post):
    return f"{post.get_absolute_url()}updates/"


def thread_ids(response):
    return [int(i) for i in re.findall(r'data-update-id="(\d+)"', response.content.decode())]


# --- The endpoint readers poll ---------------------------------------------------------


def test_endpoint_returns_the_thread_newest_first_with_validators(client, story):
    alice, bob = UserFactory(first_name="Alice"), UserFactory(first_name="Bob")
    older = UpdateFactory(
        post=story, author=alice, published_at=story.published_at + timedelta(hours=1)
    )
    newer = UpdateFactory(
        post=story, author=bob, published_at=story.published_at + timedelta(hours=2)
    )
    UpdateFactory(post=story, body="Scheduled", published_at=timezone.now() + timedelta(hours=1))
    response = client.get(updates_url(story))
    assert response.status_code == 200
    assert thread_ids(response) == [newer.pk, older.pk]
    html = response.content.decode()
    assert html.index("by Bob") < html.index("by Alice")
    assert "Scheduled" not in html
    assert 'data-state="open"' in html
    assert f'data-update-ids="{newer.pk},{older.pk}"' in html
    assert response["ETag"] and response["Last-Modified"]
    cache_control = response["Cache-Control"]
    assert "public" in cache_control and "max-age=10" in cache_control


def test_endpoint_uses_the_same_markup_as_the_page(client, story):
    update = UpdateFactory(post=story, body=quoted("Still split.", "— Dana Reyes, The Tribune"))
    fragment = client.get(updates_url(story)).content.decode()
    page = client.get(story.get_absolute_url()).content.decode()
    item = re.search(r'<li data-update-id="\d+".*?</li>', fragment, re.S).group(0)
    assert item in page
    assert f'id="update-{update.pk}"' in item and '<figure class="quote">' in item


def test_unchanged_thread_is_a_304_from_a_cache_hit(client, story, django_assert_num_queries):
    UpdateFactory(post=story)
    etag = client.get(updates_url(story))["ETag"]
    with django_assert_num_queries(0):
        response = client.get(updates_url(story), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert "max-age=10" in response["Cache-Control"]
    # A lost cache (Redis restarted) costs each poller one fresh answer, then 304s again.
    cache.clear()
    with django_assert_num_queries(4):
        response = client.get(updates_url(story), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    with django_assert_num_queries(0):
        again = client.get(updates_url(story), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_200_runs_a_constant_number_of_queries(client, story, django_assert_max_num_queries):
    authors = [UserFactory() for _ in range(3)]
    for n in range(30):
        UpdateFactory(
            post=story,
            author=authors[n % 3],
            published_at=story.published_at + timedelta(minutes=n),
        )
    with django_assert_max_num_queries(3):
        response = client.get(updates_url(story))
    assert len(thread_ids(response)) == 30
    with django_assert_max_num_queries(0):  # the same thread again: served from the cache
        assert client.get(updates_url(story)).content == response.content


@pytest.mark.parametrize("change", ["add", "edit", "delete", "close"])
def test_every_change_is_a_200_with_a_new_etag(
    client, story, change, django_capture_on_commit_callbacks
):
    update = UpdateFactory(post=story, body="First report.")
    etag = client.get(updates_url(story))["ETag"]  # now cached
    # The cached validators are dropped when the change commits.
    with django_capture_on_commit_callbacks(execute=True):
        if change == "add":
            UpdateFactory(post=story, body="Second report.")
        elif change == "edit":
            update.body = "First report, corrected wording."
            update.save()
        elif change == "delete":
            update.delete()
        else:
            story.set_developing(False)
    response = client.get(updates_url(story), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    html = response.content.decode()
    expected = {
        "add": "Second report.",
        "edit": "First report, corrected wording.",
        "delete": 'data-update-ids=""',
        "close": "This story is no longer being updated",
    }[change]
    assert expected in html
    if change == "delete":
        assert "First report." not in html
    if change == "close":
        assert 'data-state="closed"' in html


@pytest.mark.parametrize(
    "url",
    ["/2026/01/vote-delayed/updates/", "/2026/01/nope/updates/", "/2026/13/vote-delayed/updates/"],
)
def test_unknown_or_misdated_thread_is_404(client, story, url):
    assert client.get(url).status_code == 404


def test_drafts_have_no_public_thread(client):
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None, is_developing=True)
    assert client.get(updates_url(draft)).status_code == 404


# --- The page: polling only while the thread is open -----------------------------------


def test_open_thread_page_carries_the_live_script_and_interval(client, story, settings):
    settings.DATELINE = {**settings.DATELINE, "LIVE_POLL_SECONDS": 7}
    page = client.get(story.get_absolute_url()).content.decode()
    assert "js/live.js" in page
    assert f'data-live-url="{updates_url(story)}"' in page
    assert 'data-live-interval="7"' in page
    assert 'aria-live="polite"' in page


def test_closed_thread_sends_no_script_and_says_so(client, story):
    UpdateFactory(post=story)
    story.set_developing(False)
    page = client.get(story.get_absolute_url()).content.decode()
    assert "js/live.js" not in page and "data-live-url" not in page
    assert "This story is no longer being updated" in page


def test_page_without_javascript_still_shows_everything(client, story):
    update = UpdateFactory(post=story, body="Council reconvenes at nine.")
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Council reconvenes at nine." in page and f'id="update-{update.pk}"' in page


# --- Staff add updates from the page ---------------------------------------------------


def test_staff_see_the_add_update_form_readers_do_not(client, staff_client, story):
    assert 'class="add-update"' in staff_client.get(story.get_absolute_url()).content.decode()
    anonymous = Client()
    assert 'class="add-update"' not in anonymous.get(story.get_absolute_url()).content.decode()


def test_staff_post_an_update_from_the_page(staff_client, story):
    response = staff_client.post(
        updates_url(story),
        {"kind": "update", "body": quoted("We have a date.", "— Council Clerk, City Hall")},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    update = Update.objects.get(pk=response.json()["id"])
    assert update.post == story and update.author == staff_client.user
    assert update.quotes.get().source.name == "Council Clerk"
    assert "We have a date." in staff_client.get(updates_url(story)).content.decode()


def test_without_javascript_the_form_redirects_to_the_new_update(staff_client, story):
    response = staff_client.post(updates_url(story), {"kind": "correction", "body": "Fixed."})
    update = story.updates.get()
    assert response.status_code == 303
    assert response["Location"] == f"{story.get_absolute_url()}#update-{update.pk}"
    assert update.kind == Update.Kind.CORRECTION


def test_invalid_update_is_a_400_with_the_reason_and_saves_nothing(staff_client, story):
    as_json = staff_client.post(
        updates_url(story), {"kind": "update", "body": ""}, HTTP_ACCEPT="application/json"
    )
    assert as_json.status_code == 400
    assert "body" in as_json.json()["errors"]
    as_page = staff_client.post(updates_url(story), {"kind": "update", "body": "[" * 3000})
    assert as_page.status_code == 400
    assert "unclosed brackets" in as_page.content.decode()
    assert not story.updates.exists()


def test_closed_thread_refuses_new_updates(staff_client, story):
    story.set_developing(False)
    response = staff_client.post(
        updates_url(story), {"kind": "update", "body": "x"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert "closed" in json.dumps(response.json())
    assert not story.updates.exists()


def test_readers_cannot_post_updates(client, story, django_user_model):
    assert client.post(updates_url(story), {"kind": "update", "body": "spam"}).status_code == 403
    client.force_login(django_user_model.objects.create_user("reader"))
    assert client.post(updates_url(story), {"kind": "update", "body": "spam"}).status_code == 403
    assert not story.updates.exists()


def test_posting_an_update_requires_the_csrf_token(story, django_user_model):
    editor = django_user_model.objects.create_user("csrf-editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    response = browser.post(updates_url(story), {"kind": "update", "body": "x"})
    assert response.status_code == 403
    page = browser.get(story.get_absolute_url())
    token = page.cookies["csrftoken"].value
    ok = browser.post(
        updates_url(story),
        {"kind": "update", "body": "With a token."},
        HTTP_X_CSRFTOKEN=token,
        HTTP_ACCEPT="application/json",
    )
    assert ok.status_code == 201


# --- Opening and closing -----------------------------------------------------------


def test_one_click_closes_and_reopens_the_thread_from_the_page(staff_client, story):
    page = staff_client.get(story.get_absolute_url()).content.decode()
    assert f'action="/admin/blog/post/{story.pk}/thread/"' in page and "Close this thread" in page
    response = staff_client.post(
        f"/admin/blog/post/{story.pk}/thread/", {"open": "0", "next": story.get_absolute_url()}
    )
    assert response.status_code == 302 and response["Location"] == story.get_absolute_url()
    story.refresh_from_db()
    assert not story.is_developing and story.developing_ended_at
    assert "Reopen this thread" in staff_client.get(story.get_absolute_url()).content.decode()
    staff_client.post(f"/admin/blog/post/{story.pk}/thread/", {"open": "1"})
    story.refresh_from_db()
    assert story.is_developing and story.developing_ended_at is None


def test_admin_change_form_has_the_thread_button(staff_client, story):
    page = staff_client.get(f"/admin/blog/post/{story.pk}/change/").content.decode()
    assert "Close the thread" in page


def test_thread_toggle_refuses_readers_and_unsafe_redirects(staff_client, story):
    assert Client().post(f"/admin/blog/post/{story.pk}/thread/", {"open": "0"}).status_code == 302
    story.refresh_from_db()
    assert story.is_developing  # the anonymous request was sent to the login page
    response = staff_client.post(
        f"/admin/blog/post/{story.pk}/thread/", {"open": "0", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/admin/blog/post/{story.pk}/change/"
    assert staff_client.get(f"/admin/blog/post/{story.pk}/thread/").status_code == 405


# --- Corrections -------------------------------------------------------------------


def test_corrections_page_lists_every_correction_newest_first(client, story):
    other = PostFactory(title="Another story")
    UpdateFactory(post=story, body="Not a correction.")
    first = UpdateFactory(
        post=other,
        kind="correction",
        body="We misspelled the clerk's name.",
        published_at=timezone.now() - timedelta(hours=2),
    )
    second = UpdateFactory(post=story, kind="correction", body="The vote is Thursday, not Friday.")
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None)
    UpdateFactory(post=draft, kind="correction", body="Hidden draft correction.")
    page = client.get("/corrections/").content.decode()
    assert page.index("Thursday, not Friday") < page.index("misspelled the clerk")
    assert "Not a correction." not in page and "Hidden draft correction." not in page
    assert f'href="{story.get_absolute_url()}#update-{second.pk}"' in page
    assert f'href="{other.get_absolute_url()}#update-{first.pk}"' in page
    assert 'href="/corrections/feed/"' in page


def test_corrections_feed(client, story):
    correction = UpdateFactory(post=story, kind="correction", body="Wrong date earlier.")
    UpdateFactory(post=story, body="Plain update.")
    import feedparser

    for url in ("/corrections/feed/", "/corrections/feed/atom/"):
        parsed = feedparser.parse(client.get(url).content)
        assert not parsed.bozo
        assert [e.id for e in parsed.entries] == [correction.guid]
        assert parsed.entries[0].title == "Correction to “Vote delayed”"


def test_post_header_shows_corrected_on(client, story):
    correction = UpdateFactory(post=story, kind="correction", body="Fixed.")
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Corrected on" in page and f'href="#update-{correction.pk}"' in page
    assert "update--correction" in page


# --- Dates -------------------------------------------------------------------------


def test_updated_time_only_after_a_material_change(client, story):
    page = client.get(story.get_absolute_url()).content.decode()
    assert "Published <time" in page and "Updated <time" not in page
    story.body += "\n\nTypo fixed."
    story.save()
    assert "Updated <time" not in client.get(story.get_absolute_url()).content.decode()
    UpdateFactory(post=story)
    for url in (story.get_absolute_url(), "/"):
        assert "Updated <time" in client.get(url).content.decode()


def test_times_carry_machine_readable_values_for_the_readers_time_zone(client, story):
    page = client.get(story.get_absolute_url()).content.decode()
    assert re.search(
        r'<time class="local-time" datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}">', page
    )
    assert "js/local-time.js" in page


def test_lists_mark_developing_stories_with_update_counts(client, story):
    UpdateFactory(post=story)
    UpdateFactory(post=story)
    page = client.get("/").content.decode()
    assert "badge-developing" in page and "2 updates" in page


# --- Structured data ---------------------------------------------------------------


def json_ld(page):
    return json.loads(
        re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S).group(1)
    )


def test_developing_post_is_a_live_blog_posting(client, story):
    update = UpdateFactory(post=story, body="A </script><script>alert(1)</script> update")
    data = json_ld(client.get(story.get_absolute_url()).content.decode())
    assert data["@type"] == "LiveBlogPosting"
    assert data["coverageStartTime"].startswith(story.published_at.date().isoformat()[:4])
    assert "coverageEndTime" not in data
    [entry] = data["liveBlogUpdate"]
    assert entry["url"].endswith(f"#update-{update.pk}")
    assert "alert(1)" not in entry["articleBody"] or "</script>" not in entry["articleBody"]
    story.set_developing(False)
    closed = json_ld(client.get(story.get_absolute_url()).content.decode())
    assert "coverageEndTime" in closed


def test_ordinary_post_is_a_blog_posting(client):
    post = PostFactory(title='Quotes "and" <tags>')
    page = client.get(post.get_absolute_url()).content.decode()
    data = json_ld(page)
    assert data["@type"] == "BlogPosting" and data["headline"] == 'Quotes "and" <tags>'
    assert "<tags>" not in page.split('application/ld+json"')[1].split("</script>")[0]


def test_draft_preview_offers_no_update_form_or_polling(staff_client):
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None, is_developing=True)
    page = staff_client.get(draft.get_absolute_url()).content.decode()
    assert "not public yet" in page
    assert 'class="add-update"' not in page and "data-live-url" not in page
