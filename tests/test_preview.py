import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core import signing
from django.utils import timezone

from blog import preview
from blog.models import Post
from tests.factories import PostFactory, UserFactory, quoted

pytestmark = pytest.mark.django_db

BODY = "\n\n".join(
    [
        "A draft about the budget vote.",
        quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
    ]
)


@pytest.fixture
def draft():
    return PostFactory(
        title="Council budget: what the draft says",
        slug="draft-budget",
        status=Post.Status.DRAFT,
        published_at=None,
        body=BODY,
    )


def link_for(post):
    path, _ = preview.make_link(post)
    return path


def assert_private(response):
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"
    assert not response.cookies


def test_preview_link_shows_the_draft_as_its_page_will_look(client, draft):
    response = client.get(link_for(draft))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Council budget: what the draft says" in html
    assert "A draft about the budget vote." in html
    assert '<figure class="quote">' in html and "Dana Reyes" in html
    assert "Preview — not published yet." in html
    assert "This link expires" in html
    assert '<meta name="robots" content="noindex">' in html
    assert_private(response)
    # Quoted outlets must not learn the secret address from the Referer header.
    assert response["Referrer-Policy"] == "no-referrer"


def test_preview_of_a_scheduled_post_says_when_it_goes_out(client):
    post = PostFactory(title="Scheduled story", published_at=timezone.now() + timedelta(days=2))

    response = client.get(link_for(post))

    assert response.status_code == 200
    assert b"Scheduled story" in response.content
    assert b"It is scheduled for" in response.content


def test_preview_is_never_cached(client, draft, settings):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 300}
    link = link_for(draft)
    assert b"what the draft says" in client.get(link).content

    draft.title = "Council budget: the rewritten draft"
    draft.save()
    response = client.get(link)

    assert b"the rewritten draft" in response.content
    assert "ETag" not in response
    assert_private(response)


def test_previewing_a_draft_does_not_leak_into_its_public_page(client, draft):
    # The preview fills the shared fragment caches with the draft's header…
    assert b"Not yet published" in client.get(link_for(draft)).content

    draft.status = Post.Status.PUBLISHED
    draft.save()
    response = client.get(draft.get_absolute_url())

    # …which the published page must not reuse.
    assert response.status_code == 200
    assert b"what the draft says" in response.content
    assert b"Not yet published" not in response.content


def test_preview_link_expires(client, draft, settings):
    settings.DATELINE = {**settings.DATELINE, "PREVIEW_HOURS": 2}
    link = link_for(draft)
    now = timezone.now()

    with time_machine.travel(now + timedelta(hours=1, minutes=59)):
        assert client.get(link).status_code == 200
    with time_machine.travel(now + timedelta(hours=2, minutes=1)):
        response = client.get(link)

    assert response.status_code == 410
    assert b"This preview link has expired" in response.content
    assert b"what the draft says" not in response.content
    assert_private(response)


def test_default_expiry_is_three_days(client, draft):
    link = link_for(draft)
    now = timezone.now()
    with time_machine.travel(now + timedelta(hours=71)):
        assert client.get(link).status_code == 200
    with time_machine.travel(now + timedelta(hours=73)):
        assert client.get(link).status_code == 410


def test_revoking_stops_every_earlier_link(client, draft):
    first, second = link_for(draft), link_for(draft)
    assert client.get(first).status_code == 200

    preview.revoke(draft)

    for link in (first, second):
        response = client.get(link)
        assert response.status_code == 410
        assert b"withdrawn" in response.content
        assert b"what the draft says" not in response.content
    assert client.get(link_for(draft)).status_code == 200


def test_revoking_changes_nothing_readers_see(draft):
    before = draft.modified_at
    preview.revoke(draft)
    draft.refresh_from_db()
    assert draft.modified_at == before


def resigned_payload(link, change):
    """The token with its payload changed but its old signature kept."""
    token = link.split("/")[2]
    payload, _, signature = token.partition(":")
    data = signing.b64_decode(payload.encode()).decode()
    return f"/preview/{signing.b64_encode(change(data).encode()).decode()}:{signature}/"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda link, post: link[:-2] + ("A" if link[-2] != "A" else "B") + "/", id="sig"
        ),
        pytest.param(
            lambda link, post: resigned_payload(link, lambda d: d.replace(str(post.pk), "999", 1)),
            id="pk",
        ),
        pytest.param(
            lambda link, post: resigned_payload(link, lambda d: d.replace("]", "9]")),
            id="expiry",
        ),
        pytest.param(lambda link, post: "/preview/garbage/", id="junk"),
        pytest.param(lambda link, post: "/preview/" + "a" * 10_000 + "/", id="10kb"),
        pytest.param(lambda link, post: "/preview/ab%00cd:ef/", id="nul"),
        pytest.param(lambda link, post: "/preview/%F0%9F%92%A5:%E2%80%94/", id="unicode"),
        pytest.param(
            lambda link, post: f"/preview/{signing.dumps([post.pk, post.preview_key, 9e9])}/",
            id="other-salt",
        ),
        pytest.param(
            lambda link, post: f"/preview/{signing.dumps('hello', salt=preview.SALT)}/",
            id="wrong-shape",
        ),
        pytest.param(
            lambda link, post: f"/preview/{signing.dumps({'a': 1}, salt=preview.SALT)}/",
            id="wrong-type",
        ),
    ],
)
def test_tampered_links_are_a_friendly_404(client, draft, tamper):
    link = link_for(draft)

    response = client.get(tamper(link, draft))

    assert response.status_code == 404
    assert b"what the draft says" not in response.content
    if b"Preview unavailable" in response.content:  # ours, not a 404 of the router's
        assert_private(response)


def test_a_key_works_only_for_its_own_post(client, draft):
    other = PostFactory(status=Post.Status.DRAFT, published_at=None, title="Another draft")
    key = preview.ensure_key(draft)
    expires = int((timezone.now() + timedelta(hours=1)).timestamp())
    token = signing.dumps([other.pk, key, expires], salt=preview.SALT)

    response = client.get(f"/preview/{token}/")

    assert response.status_code == 410
    assert b"Another draft" not in response.content


def test_published_post_link_leads_to_the_post(client, draft):
    link = link_for(draft)
    draft.status = Post.Status.PUBLISHED
    draft.save()

    response = client.get(link)

    assert response.status_code == 302
    assert response["Location"] == draft.get_absolute_url()
    assert client.get(response["Location"]).status_code == 200


def test_scheduled_post_link_leads_to_the_post_once_it_is_out(client):
    post = PostFactory(published_at=timezone.now() + timedelta(hours=1))
    link = link_for(post)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == post.get_absolute_url()


def test_trashed_post_has_no_preview(client, draft):
    link = link_for(draft)
    Post.objects.filter(pk=draft.pk).update(deleted_at=timezone.now())

    response = client.get(link)

    assert response.status_code in (404, 410)
    assert b"what the draft says" not in response.content


def test_preview_only_answers_get_and_head(client, draft):
    link = link_for(draft)
    assert client.head(link).status_code == 200
    assert client.post(link).status_code == 405


# --- The admin --------------------------------------------------------------------


def admin_url(post):
    return f"/admin/blog/post/{post.pk}/preview-link/"


def test_editor_gets_a_preview_link_from_the_change_page(staff_client, client, draft):
    change = staff_client.get(f"/admin/blog/post/{draft.pk}/change/")
    assert b"Get a preview link" in change.content
    assert b"Revoke preview links" not in change.content

    response = staff_client.post(admin_url(draft), follow=True)

    assert response.redirect_chain == [(f"/admin/blog/post/{draft.pk}/change/", 302)]
    [message] = [str(m) for m in response.context["messages"]]
    link = re.search(r"http://testserver(/preview/[^<\s]+/)", message)[1]
    assert "until" in message
    assert b"Revoke preview links" in response.content
    entry = LogEntry.objects.get(object_id=str(draft.pk))
    assert entry.get_change_message() == "Preview link created"
    assert entry.user == staff_client.user

    assert client.get(link).status_code == 200

    staff_client.post(admin_url(draft), {"revoke": "1"})

    assert client.get(link).status_code == 410
    assert LogEntry.objects.filter(
        object_id=str(draft.pk), change_message="Preview links revoked"
    ).exists()


def test_published_post_gets_no_preview_link(staff_client):
    post = PostFactory()

    response = staff_client.post(admin_url(post), follow=True)

    [message] = [str(m) for m in response.context["messages"]]
    assert "Only a draft or a scheduled post" in message
    assert "/preview/" not in message
    assert b"Get a preview link" not in response.content
    assert not LogEntry.objects.exists()


def test_user_who_cannot_change_the_post_gets_no_link(client, draft):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_post", "edit_others_posts"])
    )
    client.force_login(viewer)
    assert client.get(f"/admin/blog/post/{draft.pk}/change/").status_code == 200

    for data in ({}, {"revoke": "1"}):
        assert client.post(admin_url(draft), data).status_code == 403

    draft.refresh_from_db()
    assert draft.preview_key == ""
    assert not LogEntry.objects.exists()


def test_preview_link_action_takes_only_post(staff_client, draft):
    assert staff_client.get(admin_url(draft)).status_code == 405
    draft.refresh_from_db()
    assert draft.preview_key == ""
