from io import StringIO

import pytest
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.core.management import call_command

from blog.models import Category, Post, Quote, Source, Update

pytestmark = pytest.mark.django_db


def counts():
    return {
        model.__name__: model.objects.count() for model in (Post, Update, Quote, Source, Category)
    }


def test_demo_loads_the_documented_shape_and_a_second_run_changes_nothing(client):
    call_command("demo", stdout=StringIO())
    first = counts()
    assert Post.objects.published().count() >= 6
    assert Category.objects.filter(parent=None).count() >= 3
    assert Source.objects.count() >= 8
    assert Source.objects.exclude(affiliation=None).exists()
    assert Quote.objects.count() >= 12
    developing = Post.objects.published().filter(is_developing=True).first()
    assert developing.updates.count() >= 3
    assert developing.updates.filter(kind=Update.Kind.CORRECTION).exists()

    call_command("demo", stdout=StringIO())
    assert counts() == first
    page = client.get(developing.get_absolute_url())
    assert page.status_code == 200
    assert b"More as it develops" in page.content


def test_demo_never_touches_content_editors_created(django_user_model):
    author = django_user_model.objects.create_user("someone")
    politics = Category.objects.create(name="Our own politics", slug="politics")
    about = FlatPage.objects.create(url="/about/", title="Our own about page")
    call_command("demo", stdout=StringIO())
    politics.refresh_from_db()
    assert politics.name == "Our own politics"
    assert author.posts.count() == 0
    assert list(FlatPage.objects.all()) == [about]
    about.refresh_from_db()
    assert about.title == "Our own about page" and not about.sites.exists()


def test_demo_has_an_about_page_on_whatever_domain_the_site_row_names(client):
    Site.objects.update(domain="example.com")
    call_command("demo", stdout=StringIO())
    call_command("demo", stdout=StringIO())
    response = client.get("/about/")
    assert response.status_code == 200
    assert "invented" in response.content.decode()
    assert FlatPage.objects.count() == 1


def test_rerender_rebuilds_html_and_quotes():
    call_command("demo", stdout=StringIO())
    post = Post.objects.filter(quotes__isnull=False).first()
    quotes = post.quotes.count()
    Post.objects.filter(pk=post.pk).update(body_html="stale")
    Quote.objects.filter(post=post).delete()
    out = StringIO()
    call_command("rerender", stdout=out)
    post.refresh_from_db()
    assert '<figure class="quote">' in post.body_html
    assert post.quotes.count() == quotes
    assert "Re-rendered" in out.getvalue()


def test_ensure_admin_creates_a_login_once(django_user_model):
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    assert "admin" in out.getvalue()
    call_command("ensure_admin", stdout=StringIO())
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password("admin")


def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
