from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.utils import timezone

from blog.models import Post, Quote, Source, Update
from tests.factories import TWO_QUOTES, PostFactory, SourceFactory, UpdateFactory, quoted

pytestmark = pytest.mark.django_db


def test_saving_a_post_stores_html_and_one_quote_row_per_attributed_quote():
    post = PostFactory(body=TWO_QUOTES)
    assert '<figure class="quote">' in post.body_html
    quotes = list(post.quotes.select_related("source"))
    assert [(q.position, q.source.name) for q in quotes] == [(1, "Dana Reyes"), (2, "The Ledger")]
    assert quotes[0].text == "The council is divided three ways."
    assert quotes[0].attribution == "Dana Reyes, The Tribune"
    assert quotes[1].url == "https://ledger.example/2026/03/split"


def test_name_and_outlet_creates_a_person_affiliated_to_an_outlet():
    PostFactory(body=quoted("Divided.", "— Dana Reyes, The Tribune"))
    dana = Source.objects.get(name="Dana Reyes")
    assert dana.kind == Source.Kind.PERSON
    assert dana.affiliation.name == "The Tribune"
    assert dana.affiliation.kind == Source.Kind.OUTLET
    assert dana.get_absolute_url() == "/source/dana-reyes/"


def test_existing_person_without_affiliation_gets_the_outlet():
    SourceFactory(name="Dana Reyes", slug="dana")
    PostFactory(body=quoted("Divided.", "— Dana Reyes, The Tribune"))
    assert Source.objects.get(slug="dana").affiliation.name == "The Tribune"
    assert Source.objects.filter(name__iexact="dana reyes").count() == 1


def test_existing_affiliation_is_not_overwritten():
    gazette = SourceFactory(name="The Gazette", slug="gazette", kind=Source.Kind.OUTLET)
    SourceFactory(name="Dana Reyes", slug="dana", affiliation=gazette)
    PostFactory(body=quoted("Divided.", "— Dana Reyes, The Tribune"))
    assert Source.objects.get(slug="dana").affiliation == gazette


def test_sources_are_matched_by_name_or_alias_case_insensitively():
    times = SourceFactory(name="The New York Times", slug="nyt", aliases="NY Times\nNYT")
    post = PostFactory(
        body="\n\nText.\n\n".join(
            [quoted("One.", "— the new york times"), quoted("Two.", "— ny TIMES")]
        )
    )
    assert [q.source for q in post.quotes.all()] == [times, times]
    assert Source.objects.count() == 1


def test_lone_unknown_name_kind_is_guessed_and_editable():
    PostFactory(
        body=quoted("One.", "— The Harbor Gazette") + "\n\nx\n\n" + quoted("Two.", "— Ann Lee")
    )
    assert Source.objects.get(name="The Harbor Gazette").kind == Source.Kind.OUTLET
    ann = Source.objects.get(name="Ann Lee")
    assert ann.kind == Source.Kind.PERSON
    ann.kind = Source.Kind.OUTLET
    ann.save()
    PostFactory(body=quoted("Three.", "— ANN LEE"))
    assert Source.objects.get(pk=ann.pk).kind == Source.Kind.OUTLET
    assert Quote.objects.filter(source=ann).count() == 2


def test_editing_the_body_rebuilds_quote_rows():
    post = PostFactory(body=TWO_QUOTES)
    post.body = quoted("Only this one now.", "— Dana Reyes")
    post.save()
    assert [(q.text, q.source.name) for q in post.quotes.all()] == [
        ("Only this one now.", "Dana Reyes")
    ]
    post.body = "No quotes at all."
    post.save()
    assert not post.quotes.exists()
    assert "<figure" not in post.body_html


def test_quotes_inside_updates_get_rows_that_point_at_the_update():
    post = PostFactory(body=TWO_QUOTES)
    update = UpdateFactory(post=post, body=quoted("Vote moved.", "— Council Clerk, City Hall"))
    assert '<figure class="quote">' in update.body_html
    row = Quote.objects.get(update=update)
    assert row.post == post
    assert row.source.name == "Council Clerk"
    # Saving the post again does not drop the update's quotes.
    post.save()
    assert Quote.objects.filter(post=post).count() == 3
    update.body = "No quote any more."
    update.save()
    assert not Quote.objects.filter(update=update).exists()
    assert Quote.objects.filter(post=post).count() == 2


def test_nested_quote_gives_two_rows_outer_first():
    body = (
        "> The mayor's office told us:\n>\n> > We will not comment.\n> > — City Hall\n>\n"
        "> — Dana Reyes, The Tribune"
    )
    post = PostFactory(body=body)
    rows = list(post.quotes.select_related("source"))
    assert [r.source.name for r in rows] == ["Dana Reyes", "City Hall"]
    assert rows[0].text == "The mayor's office told us:\n\nWe will not comment."


def test_quoted_source_cannot_be_deleted():
    PostFactory(body=quoted("Divided.", "— Dana Reyes"))
    with pytest.raises(ProtectedError):
        Source.objects.get(name="Dana Reyes").delete()


def test_deleting_a_post_deletes_its_updates_and_quotes():
    post = PostFactory(body=TWO_QUOTES)
    UpdateFactory(post=post, body=quoted("x", "— Ann Lee"))
    post.delete()
    assert not Quote.objects.exists()
    assert not Update.objects.exists()


def test_published_is_status_published_and_date_not_in_future():
    now = timezone.now()
    visible = PostFactory(published_at=now - timedelta(minutes=1))
    PostFactory(status=Post.Status.DRAFT, published_at=None)
    scheduled = PostFactory(published_at=now + timedelta(hours=1))
    assert list(Post.objects.published()) == [visible]
    with time_machine.travel(now + timedelta(hours=2)):
        assert set(Post.objects.published()) == {visible, scheduled}


def test_publishing_without_a_date_uses_now_and_mints_a_guid_once():
    post = PostFactory(status=Post.Status.DRAFT, published_at=None)
    assert post.guid == ""
    post.status = Post.Status.PUBLISHED
    post.save()
    assert post.published_at is not None
    guid = Post.objects.get(pk=post.pk).guid
    assert guid.startswith("tag:dateline.example,") and guid.endswith(f":post/{post.pk}")
    post.slug = "a-new-slug"
    post.title = "A new title"
    post.save()
    assert Post.objects.get(pk=post.pk).guid == guid


def test_updates_get_a_guid():
    update = UpdateFactory()
    assert Update.objects.get(pk=update.pk).guid.endswith(f":update/{update.pk}")


def test_published_post_needs_a_date_in_the_database():
    post = PostFactory()
    with pytest.raises(IntegrityError):
        Post.objects.filter(pk=post.pk).update(published_at=None)


def test_slugs_are_unique():
    PostFactory(slug="same")
    with pytest.raises(IntegrityError):
        PostFactory(slug="same")


def test_source_names_are_unique_whatever_the_case():
    SourceFactory(name="The Tribune", slug="a")
    with pytest.raises(IntegrityError):
        SourceFactory(name="THE TRIBUNE", slug="b")


def test_post_url_uses_year_and_month_in_site_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    # 02:00 UTC on 1 March is still 28 February in New York.
    post = PostFactory(
        slug="late", published_at=timezone.datetime(2026, 3, 1, 2, tzinfo=timezone.UTC)
    )
    assert post.get_absolute_url() == "/2026/02/late/"


def test_closing_and_opening_the_thread_records_when():
    post = PostFactory(is_developing=True)
    post.set_developing(False)
    post.refresh_from_db()
    assert not post.is_developing and post.developing_ended_at is not None
    post.set_developing(True)
    post.refresh_from_db()
    assert post.is_developing and post.developing_ended_at is None


def test_category_lineage_and_descendants(django_assert_num_queries):
    from tests.factories import CategoryFactory

    politics = CategoryFactory(name="Politics")
    city = CategoryFactory(name="City Hall", parent=politics)
    council = CategoryFactory(name="Council", parent=city)
    with django_assert_num_queries(1):
        assert [c.name for c in type(council).lineage(council.pk)] == [
            "Politics",
            "City Hall",
            "Council",
        ]
    assert type(politics).descendant_ids(politics.pk) == {politics.pk, city.pk, council.pk}
