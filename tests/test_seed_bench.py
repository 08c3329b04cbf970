from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from taggit.models import TaggedItem

from blog.markdown import render
from blog.models import Category, Post, Quote, Source, Update
from tests.factories import CategoryFactory, PostFactory, SourceFactory, UpdateFactory

pytestmark = pytest.mark.django_db


def seed(posts=60, **options):
    out = StringIO()
    call_command("seed_bench", posts=posts, stdout=out, **options)
    return out.getvalue()


def bench_posts():
    return Post.objects.filter(author__username__startswith="bench-")


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Post, Update, Quote, Source, Category, TaggedItem, get_user_model())
    }


def test_seeding_creates_the_requested_posts_in_a_realistic_shape():
    output = seed(60)

    posts = bench_posts()
    assert posts.count() == 60
    now = timezone.now()
    assert posts.filter(status=Post.Status.DRAFT).exists()
    assert posts.filter(status=Post.Status.PUBLISHED, published_at__gt=now).exists()
    assert Post.objects.published().count() >= 50
    assert posts.filter(is_developing=True, updates__isnull=False).exists()
    closed = posts.filter(is_developing=False, updates__isnull=False).distinct()
    assert closed.exists()
    assert not closed.filter(developing_ended_at=None).exists()
    assert not posts.filter(status=Post.Status.PUBLISHED, guid="").exists()
    guids = list(posts.exclude(guid="").values_list("guid", flat=True))
    assert len(set(guids)) == len(guids) == posts.exclude(status=Post.Status.DRAFT).count()
    assert Update.objects.filter(kind=Update.Kind.CORRECTION).exists()
    assert not Update.objects.filter(guid="").exists()
    assert not Update.objects.filter(published_at__gt=now).exists()

    assert Category.objects.exclude(parent=None).exists()
    assert Source.objects.filter(kind=Source.Kind.OUTLET).count() >= 50
    assert Source.objects.exclude(affiliation=None).count() >= 100
    authors = get_user_model().objects.filter(username__startswith="bench-")
    assert authors.count() == 10
    assert not any(a.is_staff or a.has_usable_password() for a in authors)

    for post in posts:
        assert 1 <= post.tags.count() <= 4
        assert post.quotes.filter(update=None).count() == post.body_html.count('class="quote"')
    assert Quote.objects.count() >= 60
    assert not Quote.objects.exclude(source__slug__startswith="bench-").exists()

    assert "\r" in output
    assert "60/60" in output
    assert "60 posts" in output


def test_benchmark_posts_have_the_shape_the_benchmark_expects():
    seed(20)

    live = Post.objects.get(slug="bench-live-thread")
    assert live.is_developing and live.is_published
    assert live.updates.count() == 200
    assert live.quotes.count() == 20
    assert live.updates.filter(kind=Update.Kind.CORRECTION).exists()

    typical = Post.objects.get(slug="bench-typical-post")
    assert typical.is_published and not typical.is_developing
    assert 550 <= len(typical.body.split()) <= 700
    assert typical.quotes.count() == 2
    assert 2 <= typical.tags.count() <= 3


def test_stored_html_and_quotes_are_what_saving_the_post_would_render():
    seed(20)

    for post in Post.objects.filter(slug__in=["bench-typical-post", "bench-live-thread"]):
        sources_before = Source.objects.count()
        rendered = render(post.body, Source.objects.for_attribution)
        assert rendered.html == post.body_html
        stored = post.quotes.filter(update=None).order_by("position")
        assert [(q.source_id, q.text) for q in stored] == [
            (q.source.pk, q.text) for q in rendered.quotes
        ]
        assert Source.objects.count() == sources_before


def test_seeded_site_pages_and_feeds_render(client):
    seed(40)
    typical = Post.objects.get(slug="bench-typical-post")
    live = Post.objects.get(slug="bench-live-thread")
    quote = typical.quotes.select_related("source").first()

    home = client.get("/")
    assert home.status_code == 200
    page = client.get(typical.get_absolute_url())
    assert page.status_code == 200
    assert typical.title.encode() in page.content
    assert client.get(live.get_absolute_url()).status_code == 200
    assert client.get("/feed/").status_code == 200
    assert client.get(f"/{typical.published_at:%Y}/").status_code == 200
    assert client.get(f"/tag/{typical.tags.first().slug}/").status_code == 200
    source_page = client.get(quote.source.get_absolute_url())
    assert source_page.status_code == 200
    assert quote.text.split()[0].encode() in source_page.content
    assert client.get("/sources/").status_code == 200


@pytest.mark.parametrize(
    "editors_content",
    [
        pytest.param(PostFactory, id="post"),
        pytest.param(SourceFactory, id="source"),
        pytest.param(CategoryFactory, id="category"),
    ],
)
def test_refuses_a_database_with_editors_content_unless_forced(editors_content):
    editors = editors_content()

    with pytest.raises(CommandError, match="--force"):
        seed(10)
    assert not bench_posts().exists()

    seed(10, force=True)
    assert bench_posts().count() == 10
    editors.refresh_from_db()


def test_second_run_for_the_same_total_changes_nothing_and_a_larger_total_tops_up():
    seed(20)
    first = counts()

    assert "Already seeded" in seed(20)
    assert counts() == first
    assert "Already seeded" in seed(10)

    seed(30)
    assert bench_posts().count() == 30
    assert Post.objects.filter(slug="bench-live-thread").count() == 1
    assert Update.objects.filter(post__slug="bench-live-thread").count() == 200
    assert Source.objects.count() == first["Source"]


def test_rows_saved_after_seeding_get_fresh_ids_and_guids():
    seed(20)
    seeded = Post.objects.order_by("-pk").first()
    update = Update.objects.order_by("-pk").first()

    post = PostFactory()
    later = UpdateFactory(post=post)
    assert post.pk > seeded.pk
    assert later.pk > update.pk
    assert post.guid.endswith(f"post/{post.pk}")
    assert later.guid.endswith(f"update/{later.pk}")


def test_the_same_seed_gives_the_same_posts():
    def snapshot():
        return list(bench_posts().order_by("pk").values_list("slug", "title", "body"))

    seed(15, seed=7)
    first = snapshot()
    TaggedItem.objects.all().delete()
    Post.objects.all().delete()

    seed(15, seed=7)
    assert snapshot() == first
