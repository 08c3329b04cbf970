"""No silent overwrite: stale post and update forms are refused, keeping what was typed."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from blog.models import Post, Update
from tests.admin_forms import form_data
from tests.factories import PostFactory, SourceFactory, UpdateFactory, UserFactory, quoted

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def editor_client(first_name, last_name, username):
    user = UserFactory(
        username=username, first_name=first_name, last_name=last_name, is_superuser=True
    )
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def dana():
    return editor_client("Dana", "Reyes", "dana")


@pytest.fixture
def sam():
    return editor_client("Sam", "Okafor", "sam")


def change_url(post):
    return reverse("admin:blog_post_change", args=[post.pk])


def open_form(client, post):
    response = client.get(change_url(post))
    assert response.status_code == 200
    return form_data(response)


def errors_of(response):
    return response.context["adminform"].form.non_field_errors()


def test_stale_post_form_is_refused_naming_who_and_when_and_keeps_the_text(dana, sam):
    post = PostFactory(body="What the council said on Monday.")
    with time_machine.travel(datetime(2026, 3, 4, 14, 5, tzinfo=NEW_YORK), tick=False):
        dana_form = open_form(dana, post)
        sam_form = open_form(sam, post)
    with time_machine.travel(datetime(2026, 3, 4, 14, 32, tzinfo=NEW_YORK), tick=False):
        dana_form["body"] = "Dana's rewrite: the vote moved to Thursday."
        assert dana.post(change_url(post), dana_form).status_code == 302
        sam_form["body"] = "Sam's rewrite: the vote moved to Friday."
        response = sam.post(change_url(post), sam_form)

    assert response.status_code == 200
    [message] = errors_of(response)
    assert message.startswith("Dana Reyes changed this post at 14:32, after you opened it")
    assert "(version 2; yours was 1)" in message
    assert "nothing was saved" in message
    page = response.content.decode()
    assert "Dana Reyes changed this post at 14:32" in page  # at the top of the form
    # Sam's text is what the form shows again; the database keeps Dana's.
    refused_form = form_data(response)
    assert refused_form["body"] == "Sam's rewrite: the vote moved to Friday."
    post.refresh_from_db()
    assert post.body == "Dana's rewrite: the vote moved to Thursday."
    assert post.version == 2

    # The refused form now carries the current version: saving again, on purpose, wins.
    assert refused_form["version"] == "2"
    assert sam.post(change_url(post), refused_form).status_code == 302
    post.refresh_from_db()
    assert post.body == "Sam's rewrite: the vote moved to Friday."
    assert post.version == 3
    assert post.modified_by == sam.user


def test_refusal_after_a_save_by_a_script_names_someone(sam):
    post = PostFactory()
    form = open_form(sam, post)
    post.title = "Renamed by a script"
    post.save()  # no modified_by: not saved through the admin
    form["title"] = "Sam's title"
    response = sam.post(change_url(post), form)
    assert response.status_code == 200
    assert errors_of(response)[0].startswith("someone changed this post at ")
    post.refresh_from_db()
    assert post.title == "Renamed by a script"


def test_refusal_on_another_day_gives_the_date(dana, sam):
    post = PostFactory()
    with time_machine.travel(datetime(2026, 3, 3, 9, 15, tzinfo=NEW_YORK), tick=False):
        sam_form = open_form(sam, post)
        dana_form = open_form(dana, post)
        dana_form["title"] = "Dana's title"
        assert dana.post(change_url(post), dana_form).status_code == 302
    with time_machine.travel(datetime(2026, 3, 4, 8, 0, tzinfo=NEW_YORK), tick=False):
        sam_form["title"] = "Sam's title"
        response = sam.post(change_url(post), sam_form)
    assert "Dana Reyes changed this post at 2026-03-03 09:15" in errors_of(response)[0]


def test_a_fresh_form_saves_and_records_who_saved(dana):
    post = PostFactory()
    form = open_form(dana, post)
    form["excerpt"] = "A new excerpt."
    assert dana.post(change_url(post), form).status_code == 302
    post.refresh_from_db()
    assert (post.excerpt, post.version, post.modified_by) == ("A new excerpt.", 2, dana.user)


@pytest.mark.parametrize("tampered", ["abc", "-1", "0", "1.5", "99999999999999999999", "1" * 30])
def test_tampered_version_is_a_form_error_not_a_500(sam, tampered):
    post = PostFactory(title="Untouched")
    form = open_form(sam, post)
    form.update(title="Changed", version=tampered)
    response = sam.post(change_url(post), form)
    assert response.status_code == 200
    assert "version number is not valid" in response.content.decode()
    post.refresh_from_db()
    assert post.title == "Untouched"


def test_tampered_update_version_is_a_form_error_not_a_500(sam):
    update = UpdateFactory(body="Untouched update.")
    form = open_form(sam, update.post)
    form.update({"updates-0-body": "Changed.", "updates-0-version": "x"})
    response = sam.post(change_url(update.post), form)
    assert response.status_code == 200
    assert "version number is not valid" in response.content.decode()
    update.refresh_from_db()
    assert update.body == "Untouched update."


def test_unchanged_stale_form_saves_nothing_over_the_other_edit(dana, sam):
    """Saving a form that would change nothing the other person changed is no conflict:
    the thread was closed with the button, and Sam's form holds the same values."""
    post = PostFactory(is_developing=False, title="Same title")
    sam_form = open_form(sam, post)
    dana.post(reverse("admin:blog_post_thread", args=[post.pk]), {"open": "1"})
    post.refresh_from_db()
    assert post.is_developing and post.version == 2
    # Sam's form still says the thread is closed: saving it would undo Dana's change.
    response = sam.post(change_url(post), sam_form)
    assert response.status_code == 200
    assert "changed this post" in errors_of(response)[0]
    # Sam ticks it too (now the same as the row): nothing to refuse.
    sam_form["is_developing"] = "on"
    assert sam.post(change_url(post), sam_form).status_code == 302
    post.refresh_from_db()
    assert post.is_developing


def test_stale_update_in_the_inline_is_refused_alone_keeping_the_text(dana, sam):
    post = PostFactory(is_developing=True, body="The post's own text.")
    with time_machine.travel(datetime(2026, 3, 4, 14, 5, tzinfo=NEW_YORK), tick=False):
        update = UpdateFactory(post=post, body="The vote is Thursday.")
    with time_machine.travel(datetime(2026, 3, 4, 14, 10, tzinfo=NEW_YORK), tick=False):
        dana_form = open_form(dana, post)
        sam_form = open_form(sam, post)
    with time_machine.travel(datetime(2026, 3, 4, 14, 32, tzinfo=NEW_YORK), tick=False):
        dana_form["updates-0-body"] = "Dana: the vote is Friday."
        assert dana.post(change_url(post), dana_form).status_code == 302
        sam_form["updates-0-body"] = "Sam: the vote is Saturday."
        response = sam.post(change_url(post), sam_form)

    assert response.status_code == 200
    assert list(errors_of(response)) == []  # the post's own form is fine
    [inline] = [
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "updates"
    ]
    [message] = inline.formset.forms[0].non_field_errors()
    assert message.startswith(
        "Dana Reyes changed the update of 14:05 at 14:32, after you opened it"
    )
    assert all(not form.errors for form in inline.formset.forms[1:])
    assert "Dana Reyes changed the update of 14:05" in response.content.decode()
    refused_form = form_data(response)
    assert refused_form["updates-0-body"] == "Sam: the vote is Saturday."
    update.refresh_from_db()
    assert update.body == "Dana: the vote is Friday."
    assert update.modified_by == dana.user

    # Saving again, on purpose, replaces Dana's text with Sam's.
    assert sam.post(change_url(post), refused_form).status_code == 302
    update.refresh_from_db()
    assert (update.body, update.modified_by) == ("Sam: the vote is Saturday.", sam.user)


def test_old_copy_of_an_update_edited_elsewhere_is_refused_not_sent_back(dana, sam):
    post = PostFactory(is_developing=True)
    UpdateFactory(post=post, body="One update.", published_at=post.published_at)
    sam_form = open_form(sam, post)
    dana_form = open_form(dana, post)
    dana_form["updates-0-body"] = "Dana corrected this one."
    assert dana.post(change_url(post), dana_form).status_code == 302
    # Sam edits only the post's body. Sam's copy of the update is old, so sending it as it
    # was would put the old text back: it is refused, not silently reverted.
    sam_form["body"] = "Sam's body."
    response = sam.post(change_url(post), sam_form)
    assert response.status_code == 200
    assert Update.objects.get().body == "Dana corrected this one."
    # Taking the update out of Sam's form's changes (as a reload would) lets the body through.
    fresh = open_form(sam, post)
    fresh["body"] = "Sam's body."
    assert sam.post(change_url(post), fresh).status_code == 302
    assert Update.objects.get().body == "Dana corrected this one."
    assert Post.objects.get().body == "Sam's body."


def test_quick_add_on_the_page_does_not_collide_with_the_open_admin_form(staff_client):
    post = PostFactory(is_developing=True, body="The vote is off.")
    UpdateFactory(post=post, body="An earlier update.")
    form = open_form(staff_client, post)
    year, month = post.url_date()
    quick_add = reverse(
        "blog:post_updates", kwargs={"year": year, "month": month, "slug": post.slug}
    )
    response = staff_client.post(
        quick_add,
        {"kind": "update", "body": "Added from the page."},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    added = Update.objects.get(pk=response.json()["id"])
    post.refresh_from_db()
    assert post.version == 1  # a new update leaves the post's form current

    form["body"] = "The vote is off, and the council has gone home."
    response = staff_client.post(change_url(post), form)
    assert response.status_code == 302, response.context and errors_of(response)
    post.refresh_from_db()
    assert post.body == "The vote is off, and the council has gone home."
    assert post.updates.count() == 2
    kept = Update.objects.get(pk=added.pk)
    assert (kept.body, kept.version) == ("Added from the page.", 1)


# --- Which saves are new versions -----------------------------------------------------


def test_saves_that_change_what_editors_edit_bump_the_version():
    post = PostFactory()
    assert post.version == 1
    post.title = "A new title"
    post.save()
    assert post.version == 2
    post.save(update_fields=["excerpt"])
    assert post.version == 3
    post.set_developing(True)
    assert post.version == 4
    post.move_to_trash()
    post.restore()
    post.refresh_from_db()
    assert post.version == 6


def test_two_saves_from_stale_copies_count_twice():
    post = PostFactory()
    first, second = Post.objects.get(pk=post.pk), Post.objects.get(pk=post.pk)
    first.save()
    second.save()
    assert second.version == 3
    post.refresh_from_db()
    assert post.version == 3


def test_bookkeeping_saves_keep_the_version():
    post = PostFactory()
    post.save(update_fields=["modified_at"])
    post.refresh_from_db()
    assert post.version == 1


def test_rerender_after_a_source_rename_keeps_versions(staff_client):
    dana = SourceFactory(name="Dana Reyes", slug="dana-reyes")
    post = PostFactory(body=quoted("Divided.", "— Dana Reyes"))
    update = UpdateFactory(post=post, body=quoted("Still divided.", "— Dana Reyes"))
    form = form_data(staff_client.get(reverse("admin:blog_source_change", args=[dana.pk])))
    form["name"] = "Dana M. Reyes"
    assert (
        staff_client.post(reverse("admin:blog_source_change", args=[dana.pk]), form).status_code
        == 302
    )
    post.refresh_from_db()
    update.refresh_from_db()
    assert "Dana M. Reyes" in post.body_html and "Dana M. Reyes" in update.body_html
    assert (post.version, update.version) == (1, 1)


def test_updates_bump_their_own_version_not_the_posts():
    update = UpdateFactory()
    assert update.version == 1
    update.body = "Corrected."
    update.save()
    assert update.version == 2
    update.post.refresh_from_db()
    assert update.post.version == 1


def test_updates_not_touched_in_the_form_keep_their_editor(dana, sam):
    post = PostFactory(is_developing=True)
    update = UpdateFactory(post=post, modified_by=dana.user)
    form = open_form(sam, post)
    form["title"] = "Only the title"
    assert sam.post(change_url(post), form).status_code == 302
    update.refresh_from_db()
    assert (update.modified_by, update.version) == (dana.user, 1)


def test_version_is_not_offered_on_the_add_form_nor_editable(staff_client):
    response = staff_client.get(reverse("admin:blog_post_add"))
    assert form_data(response)["version"] == ""
    post = PostFactory(published_at=None, status=Post.Status.DRAFT)
    form = open_form(staff_client, post)
    assert form["version"] == "1"
    form["version"] = "1"
    form["title"] = "Saved once"
    staff_client.post(change_url(post), form)
    post.refresh_from_db()
    assert post.version == 2  # the form's number is checked, never stored


def test_an_update_is_named_by_its_own_time_in_the_refusal():
    from blog.admin import UpdateInlineForm

    update = UpdateFactory(published_at=datetime(2026, 3, 4, 14, 5, tzinfo=NEW_YORK))
    with time_machine.travel(datetime(2026, 3, 4, 18, 0, tzinfo=NEW_YORK), tick=False):
        assert UpdateInlineForm(instance=update).locked_name() == "the update of 14:05"
