"""Roles through the real admin and public views: a Contributor writes own drafts, an
Author also publishes and updates own posts, an Editor does everything; no group, nothing."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from blog.models import Post, Quote, Source, Update
from tests.admin_forms import form_data
from tests.factories import CategoryFactory, PostFactory, SourceFactory, UserFactory, quoted

pytestmark = pytest.mark.django_db

POSTS = "/admin/blog/post/"
ROLES = ["contributor", "author", "editor"]


@pytest.fixture
def people():
    """One user per role, and a colleague (an Author) whose posts are not theirs."""
    users = {role: UserFactory(username=role) for role in ROLES}
    users["other"] = UserFactory(username="colleague")
    for name, user in users.items():
        user.groups.add(Group.objects.get(name="Author" if name == "other" else name.title()))
    return users


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def draft_of(user, **fields):
    return PostFactory(author=user, status=Post.Status.DRAFT, published_at=None, **fields)


def change_url(post):
    return f"{POSTS}{post.pk}/change/"


def run_action(client, action, posts, where=POSTS, **data):
    selected = [post.pk for post in posts]
    return client.post(where, {"action": action, "_selected_action": selected, **data}, follow=True)


def offered_actions(client, where=POSTS):
    form = client.get(where).context["action_form"]  # None when there is no action at all
    return {action for action, _ in form.fields["action"].choices} if form else set()


def logged(obj, message):
    return LogEntry.objects.filter(object_id=str(obj.pk), change_message=message)


# --- The groups --------------------------------------------------------------------


def test_migrations_make_the_three_groups_with_their_permissions():
    every = lambda app, model: {f"{app}.{a}_{model}" for a in ("view", "add", "change", "delete")}  # noqa: E731
    contributor = {
        "blog.view_post",
        "blog.add_post",
        "blog.change_post",
        "blog.view_category",
        "blog.view_source",
        "blog.view_quote",
        "taggit.view_tag",
    }
    author = contributor | {"blog.publish_post"} | every("blog", "update")
    editor = (
        every("blog", "post")
        | every("blog", "update")
        | every("blog", "source")
        | every("blog", "category")
        | every("taggit", "tag")
        | every("flatpages", "flatpage")
        | {"blog.publish_post", "blog.edit_others_posts", "blog.view_quote"}
        | {"admin.view_logentry"}
    )
    for name, expected in [("Contributor", contributor), ("Author", author), ("Editor", editor)]:
        perms = Group.objects.get(name=name).permissions.select_related("content_type")
        assert {f"{p.content_type.app_label}.{p.codename}" for p in perms} == expected, name


# --- Lists, pages, forms ------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees_others"), [("contributor", False), ("author", False), ("editor", True)]
)
def test_change_list_shows_own_posts_unless_editor(people, role, sees_others):
    own = draft_of(people[role], title="Mine, in progress")
    others = PostFactory(author=people["other"], title="A colleague's story")
    page = client_for(people[role]).get(POSTS)
    assert set(page.context["cl"].result_list) == ({own, others} if sees_others else {own})
    # Nor is every account listed as an author to filter by.
    assert ("author__id__exact" in page.content.decode()) is sees_others


@pytest.mark.parametrize(
    ("role", "others_status"), [("contributor", 403), ("author", 403), ("editor", 200)]
)
def test_another_authors_post_is_refused_unless_editor(people, role, others_status):
    client = client_for(people[role])
    assert client.get(change_url(draft_of(people[role]))).status_code == 200
    assert client.get(change_url(draft_of(people["other"]))).status_code == others_status


def test_a_contributor_can_view_but_not_change_their_post_once_it_is_out(people):
    client = client_for(people["contributor"])
    for post in [
        PostFactory(author=people["contributor"], title="Out already"),
        PostFactory(
            author=people["contributor"],
            title="Out tomorrow",
            published_at=timezone.now() + timedelta(days=1),
        ),
    ]:
        page = client.get(change_url(post))
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()  # read-only
        response = client.post(change_url(post), {**form_data(page), "title": "Rewritten"})
        assert response.status_code == 403
        post.refresh_from_db()
        assert post.title.startswith("Out")


def test_add_form_offers_a_contributor_drafts_only_and_makes_them_the_author(people):
    client = client_for(people["contributor"])
    page = client.get(f"{POSTS}add/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == ["draft"]
    assert "author" not in form.fields  # read-only: it will be them

    data = form_data(page)
    data.update(
        title="My first draft",
        slug="my-first-draft",
        category=str(CategoryFactory().pk),
        body="Words.",
        status="draft",
        author=str(people["other"].pk),  # forged
    )
    assert client.post(f"{POSTS}add/", data).status_code == 302
    assert Post.objects.get(slug="my-first-draft").author == people["contributor"]

    data.update(slug="straight-out", status="published")
    response = client.post(f"{POSTS}add/", data)
    assert "Select a valid choice" in str(response.context["adminform"].form.errors["status"])
    assert not Post.objects.filter(slug="straight-out").exists()


def publish_in_form(client, post):
    data = form_data(client.get(change_url(post)))
    return client.post(change_url(post), {**data, "status": "published"})


def test_contributor_cannot_publish_from_the_change_form(people):
    post = draft_of(people["contributor"])
    client = client_for(people["contributor"])
    response = publish_in_form(client, post)
    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["adminform"].form.errors["status"])
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


def test_author_publishes_from_the_change_form_and_the_log_says_so(people):
    post = draft_of(people["author"])
    client = client_for(people["author"])
    response = publish_in_form(client, post)
    assert response.status_code == 302, response.context["errors"]
    post.refresh_from_db()
    assert post.is_published
    entry = LogEntry.objects.get(object_id=str(post.pk))
    assert entry.get_change_message() == "Published. Changed Status."
    history = client.get(f"{POSTS}{post.pk}/history/").content.decode()
    assert "Published. Changed Status." in history


def test_the_change_form_log_names_unpublishing_and_the_thread(people):
    post = PostFactory(author=people["editor"], is_developing=False)
    client = client_for(people["editor"])
    data = {**form_data(client.get(change_url(post))), "status": "draft", "is_developing": "on"}
    assert client.post(change_url(post), data).status_code == 302
    message = LogEntry.objects.get(object_id=str(post.pk)).get_change_message()
    assert message.startswith("Unpublished (back to draft). Opened the update thread. Changed")


# --- Actions ------------------------------------------------------------------------


def test_contributor_is_not_offered_publishing_and_a_forged_action_does_nothing(people):
    post = draft_of(people["contributor"])
    client = client_for(people["contributor"])
    offered = offered_actions(client)
    assert not offered & {"publish", "unpublish", "open_thread", "close_thread", "empty_trash"}
    for action in ["publish", "open_thread"]:
        response = run_action(client, action, [post])
        assert "No action selected." in response.content.decode()
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT and not post.is_developing
    assert not LogEntry.objects.exists()


def test_author_publishes_own_posts_only_and_each_is_logged(people):
    mine, theirs = draft_of(people["author"]), draft_of(people["other"])
    client = client_for(people["author"])
    assert {"publish", "unpublish", "open_thread", "close_thread"} <= offered_actions(client)
    response = run_action(client, "publish", [mine, theirs])
    assert "Published 1 post(s)." in response.content.decode()
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.is_published and theirs.status == Post.Status.DRAFT
    assert logged(mine, "Published").count() == 1

    run_action(client, "open_thread", [mine])
    run_action(client, "close_thread", [mine])
    run_action(client, "unpublish", [mine])
    for message in ["Opened the update thread", "Closed the update thread"]:
        assert logged(mine, message).count() == 1
    assert logged(mine, "Unpublished (back to draft)").count() == 1
    assert not LogEntry.objects.filter(object_id=str(theirs.pk)).exists()


def test_editor_publishes_anyones_post(people):
    post = draft_of(people["other"])
    run_action(client_for(people["editor"]), "publish", [post])
    post.refresh_from_db()
    assert post.is_published
    assert logged(post, "Published").get().user == people["editor"]


# --- Trash --------------------------------------------------------------------------


def test_contributor_trashes_own_draft_but_not_a_post_that_is_out(people):
    client = client_for(people["contributor"])
    draft, out = draft_of(people["contributor"]), PostFactory(author=people["contributor"])
    assert client.get(f"{POSTS}{draft.pk}/delete/").status_code == 200
    client.post(f"{POSTS}{draft.pk}/delete/", {"post": "yes"})
    assert client.get(f"{POSTS}{out.pk}/delete/").status_code == 403
    assert client.post(f"{POSTS}{out.pk}/delete/", {"post": "yes"}).status_code == 403
    run_action(client, "delete_selected", [out])
    draft.refresh_from_db(), out.refresh_from_db()
    assert draft.deleted_at is not None and out.deleted_at is None


def test_contributor_cannot_restore_a_post_an_editor_took_down(people):
    out = PostFactory(author=people["contributor"])
    run_action(client_for(people["editor"]), "delete_selected", [out])
    run_action(client_for(people["contributor"]), "restore", [out], where=f"{POSTS}?trash=1")
    out.refresh_from_db()
    assert out.deleted_at is not None


def test_author_trashes_and_restores_own_published_post(people):
    post = PostFactory(author=people["author"])
    client = client_for(people["author"])
    client.post(f"{POSTS}{post.pk}/delete/", {"post": "yes"})
    post.refresh_from_db()
    assert post.deleted_at is not None
    run_action(client, "restore", [post], where=f"{POSTS}?trash=1")
    post.refresh_from_db()
    assert post.deleted_at is None
    assert logged(post, "Restored from the trash").exists()


@pytest.mark.parametrize(
    ("role", "may_empty"), [("contributor", False), ("author", False), ("editor", True)]
)
def test_only_an_editor_empties_the_trash(people, role, may_empty):
    post = draft_of(people[role])
    client = client_for(people[role])
    run_action(client, "delete_selected", [post])
    assert ("empty_trash" in offered_actions(client, f"{POSTS}?trash=1")) is may_empty
    run_action(client, "empty_trash", [post], where=f"{POSTS}?trash=1")
    assert Post.objects.filter(pk=post.pk).exists() is not may_empty


# --- Updates in the admin -----------------------------------------------------------


def add_update_in_admin(client, post, body):
    page = client.get(change_url(post))
    data = form_data(page)
    if "updates-TOTAL_FORMS" not in data:  # no inline shown: forge it
        data.update({"updates-TOTAL_FORMS": "1", "updates-INITIAL_FORMS": "0"})
    data.update({"updates-0-kind": "update", "updates-0-body": body})
    return page, client.post(change_url(post), data)


def test_contributor_gets_no_update_inline_and_forged_update_data_is_ignored(people):
    post = draft_of(people["contributor"], is_developing=True)
    page, response = add_update_in_admin(client_for(people["contributor"]), post, "Sneaked in")
    assert "updates-TOTAL_FORMS" not in page.content.decode()
    assert response.status_code == 302
    assert not Update.objects.exists()


@pytest.mark.parametrize("role", ["author", "editor"])
def test_author_and_editor_add_updates_in_the_admin(people, role):
    # An author on their own story; an editor on anyone's.
    owner = people["author"] if role == "author" else people["other"]
    post = PostFactory(author=owner, is_developing=True)
    page, response = add_update_in_admin(client_for(people[role]), post, "The vote is Thursday.")
    assert "updates-TOTAL_FORMS" in page.content.decode()
    assert response.status_code == 302
    update = post.updates.get()
    assert update.body == "The vote is Thursday." and update.author == people[role]


# --- Direct addresses of someone else's post ----------------------------------------


@pytest.mark.parametrize("role", ["contributor", "author"])
def test_direct_addresses_of_another_authors_post_are_refused(people, role):
    client = client_for(people[role])
    post = draft_of(people["other"], is_developing=True)
    refused = {403, 404}
    assert client.get(change_url(post)).status_code in refused
    assert client.post(change_url(post), {"title": "Mine now"}).status_code in refused
    assert client.get(f"{POSTS}{post.pk}/delete/").status_code in refused
    assert client.post(f"{POSTS}{post.pk}/delete/", {"post": "yes"}).status_code in refused
    assert client.get(f"{POSTS}{post.pk}/history/").status_code in refused
    assert client.post(f"{POSTS}{post.pk}/thread/", {"open": "0"}).status_code in refused
    assert client.post(f"{POSTS}{post.pk}/preview-link/").status_code in refused
    post.refresh_from_db()
    assert post.deleted_at is None and post.is_developing and not post.preview_key
    assert post.title != "Mine now"
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("object_id", ["abc", "99999999999999999999999", "1.5", "999999"])
def test_a_tampered_post_address_is_not_an_error(people, object_id):
    response = client_for(people["contributor"]).get(f"{POSTS}{object_id}/change/")
    assert response.status_code == 302  # Django's "perhaps it was deleted?"


def test_thread_button_needs_the_publish_permission(people):
    client = client_for(people["contributor"])
    draft = draft_of(people["contributor"])
    assert "thread/" not in client.get(change_url(draft)).content.decode()
    assert client.post(f"{POSTS}{draft.pk}/thread/", {"open": "1"}).status_code == 403

    post = PostFactory(author=people["author"])
    client = client_for(people["author"])
    assert f"{POSTS}{post.pk}/thread/" in client.get(change_url(post)).content.decode()
    assert client.post(f"{POSTS}{post.pk}/thread/", {"open": "1"}).status_code == 302
    assert client.post(f"{POSTS}{post.pk}/thread/", {"open": "0"}).status_code == 302
    assert logged(post, "Opened the update thread").count() == 1
    assert logged(post, "Closed the update thread").count() == 1


# --- The public site ----------------------------------------------------------------


def quick_add(client, post):
    url = f"{post.get_absolute_url()}updates/"
    return client.post(url, {"kind": "update", "body": "From the page."})


@pytest.mark.parametrize(
    ("role", "own_status", "others_status"),
    [("contributor", 403, 403), ("author", 303, 403), ("editor", 303, 303)],
)
def test_quick_add_update_on_the_public_page(people, role, own_status, others_status):
    client = client_for(people[role])
    own = PostFactory(author=people[role], is_developing=True)
    others = PostFactory(author=people["other"], is_developing=True)
    for post, status in [(own, own_status), (others, others_status)]:
        page = client.get(post.get_absolute_url()).content.decode()
        assert ('class="add-update"' in page) is (status == 303)
        assert quick_add(client, post).status_code == status
        if status == 303:
            update = post.updates.get()
            assert update.author == update.modified_by == people[role]
        else:
            assert not post.updates.exists()


@pytest.mark.parametrize(
    ("role", "sees_others"), [("contributor", False), ("author", False), ("editor", True)]
)
def test_draft_preview_on_the_public_site_is_for_those_who_may_reach_it(people, role, sees_others):
    client = client_for(people[role])
    own, others = draft_of(people[role]), draft_of(people["other"])
    assert client.get(own.get_absolute_url()).status_code == 200
    assert client.get(others.get_absolute_url()).status_code == (200 if sees_others else 404)


def test_a_contributor_sees_no_thread_button_on_the_public_page(people):
    post = PostFactory(author=people["contributor"], is_developing=True)
    page = client_for(people["contributor"]).get(post.get_absolute_url()).content.decode()
    assert "/thread/" not in page
    page = client_for(people["editor"]).get(post.get_absolute_url()).content.decode()
    assert f"{POSTS}{post.pk}/thread/" in page


# --- A staff user in no group ---------------------------------------------------------


def test_staff_in_no_group_sees_nothing(people):
    client = client_for(UserFactory(username="nobody"))
    index = client.get("/admin/")
    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert client.get(POSTS).status_code == 403
    assert client.get(f"{POSTS}add/").status_code == 403
    post = draft_of(people["other"])
    assert client.get(change_url(post)).status_code == 403
    assert client.get(post.get_absolute_url()).status_code == 404
    assert client.post("/markdownx/markdownify/", {"content": "*hi*"}).status_code == 403


def test_markdown_preview_is_for_writers(people):
    response = client_for(people["contributor"]).post(
        "/markdownx/markdownify/", {"content": "*hi*"}
    )
    assert response.status_code == 200 and "<em>hi</em>" in response.content.decode()


# --- Sources --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["contributor", "author"])
def test_writers_view_sources_but_do_not_change_or_merge_them(people, role):
    client = client_for(people[role])
    one, two = SourceFactory(name="NY Times"), SourceFactory(name="N.Y. Times")
    assert client.get("/admin/blog/source/").status_code == 200
    page = client.get(f"/admin/blog/source/{one.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    data = {"name": "Renamed", "slug": one.slug, "kind": one.kind}
    assert client.post(f"/admin/blog/source/{one.pk}/change/", data).status_code == 403
    assert "merge" not in offered_actions(client, "/admin/blog/source/")
    run_action(
        client, "merge", [one, two], where="/admin/blog/source/", confirm="yes", target=one.pk
    )
    assert Source.objects.filter(pk__in=[one.pk, two.pk]).count() == 2


def test_editor_merges_sources_and_the_log_names_them(people):
    times = SourceFactory(name="The New York Times", slug="nyt", kind=Source.Kind.OUTLET)
    PostFactory(body=quoted("One.", "— NY Times"))
    short = Source.objects.get(name="NY Times")
    client = client_for(people["editor"])
    response = run_action(
        client,
        "merge",
        [times, short],
        where="/admin/blog/source/",
        confirm="yes",
        target=times.pk,
    )
    assert "Merged 1 source(s)" in response.content.decode()
    assert Quote.objects.get().source == times
    assert logged(times, "Merged “NY Times” into this source").get().user == people["editor"]


# --- make run's accounts ------------------------------------------------------------


def test_ensure_admin_makes_one_account_per_role(django_user_model):
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    call_command("ensure_admin", stdout=StringIO())
    for role in ROLES:
        user = django_user_model.objects.get(username=role)
        assert [group.name for group in user.groups.all()] == [role.title()]
        assert user.is_staff and not user.is_superuser and user.check_password(role)
        assert f"'{role}' (password '{role}')" in out.getvalue()


def test_ensure_admin_refuses_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("ensure_admin", stdout=StringIO())
    assert not Group.objects.get(name="Editor").user_set.exists()
