from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from blog.models import Post, Quote, Source, Update
from tests.admin_forms import form_data
from tests.factories import (
    TWO_QUOTES,
    CategoryFactory,
    PostFactory,
    SourceFactory,
    UpdateFactory,
    quoted,
)

pytestmark = pytest.mark.django_db


def add_form(client):
    response = client.get("/admin/blog/post/add/")
    assert response.status_code == 200
    return form_data(response)


def test_staff_writes_publishes_and_updates_a_post_that_readers_see(staff_client):
    politics = CategoryFactory(name="Politics", slug="politics")
    data = add_form(staff_client)
    data.update(
        title="City budget update: council split, vote delayed",
        slug="city-budget-update",
        category=str(politics.pk),
        tags="budget, council",
        body=TWO_QUOTES,
        status="draft",
        is_developing="on",
    )
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.context["adminform"].errors
    post = Post.objects.get(slug="city-budget-update")
    assert post.author == staff_client.user
    assert post.quotes.count() == 2

    # Drafts are invisible to readers.
    url = post.get_absolute_url()
    staff_client.logout()
    assert staff_client.get(url).status_code == 404
    staff_client.force_login(staff_client.user)

    # Publish with the list's action.
    response = staff_client.post(
        "/admin/blog/post/", {"action": "publish", "_selected_action": [post.pk]}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED and post.guid

    # Add an update through the inline of the change form.
    change_url = f"/admin/blog/post/{post.pk}/change/"
    data = form_data(staff_client.get(change_url))
    data.update(
        {
            "updates-0-kind": "update",
            "updates-0-body": quoted("The vote is now Thursday.", "— Council Clerk, City Hall"),
        }
    )
    response = staff_client.post(change_url, data)
    assert response.status_code == 302, response.context["errors"]
    update = post.updates.get()
    assert update.author == staff_client.user
    assert post.quotes.count() == 3

    staff_client.logout()
    page = staff_client.get(post.get_absolute_url()).content.decode()
    assert "The council is divided three ways." in page
    assert "Two members said they would not support it." in page
    assert "The vote is now Thursday." in page
    assert f'id="update-{update.pk}"' in page
    assert page.count('<figure class="quote">') == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [("x" * 100_001, "the limit is 100,000"), ("[" * 3000, "unclosed brackets")],
    ids=["too-long", "hostile-brackets"],
)
def test_refused_body_is_a_form_error_and_saves_nothing(staff_client, body, message):
    category = CategoryFactory()
    data = add_form(staff_client)
    data.update(title="Refused", slug="refused", category=str(category.pk), body=body)
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Post.objects.exists()


def test_change_list_shows_counts_and_filters(staff_client, django_assert_max_num_queries):
    for _ in range(5):
        post = PostFactory(body=quoted("A.", "— Ann Lee") + "\n\nx\n\n" + quoted("B.", "— Bo"))
        UpdateFactory(post=post)
    with django_assert_max_num_queries(12):
        response = staff_client.get("/admin/blog/post/?status__exact=published")
    assert response.status_code == 200
    result = response.context["cl"].result_list
    assert [(p.update_count, p.quote_count) for p in result] == [(1, 2)] * 5
    for filter_url in ("?is_developing__exact=1", "?q=budget", "?published_at__year=2026"):
        assert staff_client.get("/admin/blog/post/" + filter_url).status_code == 200


def test_change_form_lists_quotes_read_only_with_a_source_link(staff_client):
    post = PostFactory(body=quoted("Divided.", "— Dana Reyes"))
    dana = Source.objects.get(name="Dana Reyes")
    page = staff_client.get(f"/admin/blog/post/{post.pk}/change/").content.decode()
    assert f'href="/admin/blog/source/{dana.pk}/change/"' in page
    assert "Divided." in page
    assert 'data-markdownx-urls-path="/markdownx/markdownify/"' in page


def test_update_inline_is_newest_first(staff_client):
    post = PostFactory()
    now = timezone.now()
    UpdateFactory(post=post, body="First-written update", published_at=now - timedelta(hours=2))
    UpdateFactory(post=post, body="Second-written update", published_at=now - timedelta(hours=1))
    page = staff_client.get(f"/admin/blog/post/{post.pk}/change/").content.decode()
    assert page.index("Second-written update") < page.index("First-written update")


@pytest.mark.parametrize(("action", "developing"), [("open_thread", True), ("close_thread", False)])
def test_thread_actions(staff_client, action, developing):
    post = PostFactory(is_developing=not developing)
    staff_client.post("/admin/blog/post/", {"action": action, "_selected_action": [post.pk]})
    post.refresh_from_db()
    assert post.is_developing is developing
    assert (post.developing_ended_at is None) is developing


def test_unpublish_action_hides_the_post(staff_client):
    post = PostFactory()
    staff_client.post("/admin/blog/post/", {"action": "unpublish", "_selected_action": [post.pk]})
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    staff_client.logout()
    assert staff_client.get(post.get_absolute_url()).status_code == 404


def test_closing_the_thread_in_the_form_records_the_time(staff_client):
    post = PostFactory(is_developing=True)
    change_url = f"/admin/blog/post/{post.pk}/change/"
    data = form_data(staff_client.get(change_url))
    data.pop("is_developing")
    assert staff_client.post(change_url, data).status_code == 302
    post.refresh_from_db()
    assert not post.is_developing and post.developing_ended_at is not None


def test_merge_folds_duplicates_into_the_chosen_source(staff_client):
    times = SourceFactory(name="The New York Times", slug="nyt", kind=Source.Kind.OUTLET)
    post = PostFactory(
        body=quoted("One.", "— NY Times") + "\n\nx\n\n" + quoted("Two.", "— Jo Ward, N.Y. Times")
    )
    update = UpdateFactory(post=post, body=quoted("Three.", "— NY Times"))
    short = Source.objects.get(name="NY Times")
    dotted = Source.objects.get(name="N.Y. Times")
    selected = [times.pk, short.pk, dotted.pk]

    confirm = staff_client.post(
        "/admin/blog/source/", {"action": "merge", "_selected_action": selected}
    )
    assert confirm.status_code == 200
    assert "Keep this source" in confirm.content.decode() or "Choose the source" in (
        confirm.content.decode()
    )

    response = staff_client.post(
        "/admin/blog/source/",
        {"action": "merge", "_selected_action": selected, "confirm": "yes", "target": times.pk},
    )
    assert response.status_code == 302
    assert set(Source.objects.values_list("name", flat=True)) == {"The New York Times", "Jo Ward"}
    times.refresh_from_db()
    assert set(times.alias_list()) == {"NY Times", "N.Y. Times"}
    assert Quote.objects.filter(source=times).count() == 2
    assert Source.objects.get(name="Jo Ward").affiliation == times
    # Captions now link to the surviving source, and later quotes land on it.
    post.refresh_from_db()
    assert "/source/nyt/" in post.body_html and "/source/ny-times/" not in post.body_html
    assert "/source/nyt/" in Update.objects.get(pk=update.pk).body_html
    PostFactory(body=quoted("Four.", "— ny times"))
    assert Quote.objects.filter(source=times).count() == 3


def test_merge_needs_two_sources(staff_client):
    source = SourceFactory()
    response = staff_client.post(
        "/admin/blog/source/", {"action": "merge", "_selected_action": [source.pk]}, follow=True
    )
    assert "at least two" in response.content.decode()


def test_source_list_shows_quote_counts(staff_client):
    PostFactory(body=quoted("One.", "— Dana Reyes, The Tribune"))
    response = staff_client.get("/admin/blog/source/?q=dana")
    assert response.status_code == 200
    [dana] = response.context["cl"].result_list
    assert dana.quote_count == 1 and dana.affiliation.name == "The Tribune"


def test_non_staff_cannot_reach_the_admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("reader"))
    response = client.get("/admin/blog/post/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_renaming_a_source_updates_the_captions_that_quote_it(staff_client):
    post = PostFactory(body=quoted("Divided.", "— Dana Reyes"))
    update = UpdateFactory(post=post, body=quoted("Still divided.", "— Dana Reyes"))
    dana = Source.objects.get(name="Dana Reyes")
    change_url = f"/admin/blog/source/{dana.pk}/change/"
    data = form_data(staff_client.get(change_url))
    data.update(name="Dana M. Reyes", slug="dana-m-reyes")
    assert staff_client.post(change_url, data).status_code == 302
    dana.refresh_from_db()
    assert dana.alias_list() == ["Dana Reyes"]  # the old name still finds her
    post.refresh_from_db()
    assert (
        'href="/source/dana-m-reyes/"' in post.body_html and ">Dana M. Reyes</a>" in post.body_html
    )
    assert 'href="/source/dana-m-reyes/"' in Update.objects.get(pk=update.pk).body_html
    assert Quote.objects.filter(source=dana).count() == 2


def test_affiliation_autocomplete_lists_outlets_by_name(staff_client):
    for name in ("Tribune", "Ledger", "Herald"):
        SourceFactory(name=name, slug=name.lower(), kind=Source.Kind.OUTLET)
    SourceFactory(name="Ann Person")
    query = "?app_label=blog&model_name=source&field_name=affiliation"
    response = staff_client.get(reverse("admin:autocomplete") + query)
    names = [result["text"] for result in response.json()["results"]]
    assert names == ["Herald", "Ledger", "Tribune"]
