"""Hardening a reader or an attacker can see: the policy headers, the login lockout, the
admin's address, how long staff stay signed in, and the production switches."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.core.management import call_command
from django.test import Client
from django.urls import path, reverse

from blog.views import server_error
from tests.factories import CategoryFactory, PostFactory, UpdateFactory, quoted
from tests.test_settings import settings_value

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable passphrase"


def directives(response):
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.fixture
def story():
    CategoryFactory(name="Politics", slug="politics")
    post = PostFactory(
        title="Levy vote",
        slug="levy-vote",
        is_developing=True,
        tags=["budget"],
        body=quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
    )
    UpdateFactory(post=post, body="Vote moved to Thursday.")
    return post


# --- Content Security Policy ----------------------------------------------------------


def test_every_answer_carries_a_strict_policy(client, staff_client, story):
    answers = {
        "page": Client().get(story.get_absolute_url()),
        "cached page": Client().get(story.get_absolute_url()),
        "feed": Client().get("/feed/"),
        "not found": Client().get("/no/such/page/"),
        "admin": staff_client.get(reverse("admin:blog_post_change", args=[story.pk])),
    }
    for name, response in answers.items():
        policy = directives(response)
        assert policy["default-src"] == ["'self'"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["base-uri"] == ["'self'"], name
        assert policy["form-action"] == ["'self'"], name
        for directive in ("script-src", "style-src"):
            assert "'unsafe-inline'" not in policy[directive], name
            assert "'unsafe-eval'" not in policy[directive], name
            assert "*" not in policy[directive] and "https:" not in policy[directive], name


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would have to block."""

    def __init__(self):
        super().__init__()
        self.found, self.nonces, self.in_script = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=…>")
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and not attrs.get("src"):
            if attrs.get("type") == "application/ld+json" and attrs.get("nonce"):
                self.nonces.append(attrs["nonce"])
            else:
                self.found.append(f"inline <script {attrs}>")
        for name in ("href", "src", "action"):
            if (attrs.get(name) or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def test_public_pages_have_no_inline_script_or_style(client, story):
    # A flat page's content is HTML as an editor or an import saved it.
    about = FlatPage.objects.create(
        url="/about/",
        title="About",
        content='<p style="color:red" onmouseover="x()">Hi</p><script>x()</script>'
        '<a href="javascript:x()">a</a><style>p{}</style>',
    )
    about.sites.add(settings.SITE_ID)
    urls = [
        "/about/",
        "/",
        story.get_absolute_url(),
        "/category/politics/",
        "/tag/budget/",
        "/sources/",
        "/source/dana-reyes/",
        "/corrections/",
        f"{story.published_at:%Y}/".join(["/", ""]),
        "/no/such/page/",
    ]
    for url in urls:
        response = client.get(url)
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert parser.found == [], url
        for nonce in parser.nonces:
            assert f"'nonce-{nonce}'" in directives(response)["script-src"], url
    page = InlineCode()
    page.feed(client.get(story.get_absolute_url()).content.decode())
    assert len(page.nonces) == 1  # the post's JSON-LD


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom)]
handler500 = server_error


@pytest.mark.urls("tests.test_security")
def test_the_error_page_styles_itself_with_the_answers_nonce():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    [nonce] = re.findall(r'<style nonce="([^"]+)">', response.content.decode())
    assert f"'nonce-{nonce}'" in directives(response)["style-src"]


def test_other_protective_headers(client, settings, story):
    settings.SECURE_HSTS_SECONDS = 31_536_000  # what PRODUCTION=1 sets (checked below)
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    for response in (
        client.get(story.get_absolute_url(), secure=True),
        client.get(story.get_absolute_url(), secure=True),  # from the page cache
    ):
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        features = response["Permissions-Policy"]
        for feature in ("camera=()", "geolocation=()", "microphone=()", "browsing-topics=()"):
            assert feature in features


def test_production_settings_lock_cookies_and_transport_down():
    production = {
        "PRODUCTION": "1",
        "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        "ALLOWED_HOSTS": "news.example",
    }
    values = settings_value(
        "settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY, "
        "settings.CSRF_COOKIE_SECURE, settings.CSRF_COOKIE_HTTPONLY, "
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, "
        "settings.SECURE_CSP.get('upgrade-insecure-requests')",
        **production,
    )
    assert values == "True True True True True 31536000 True"


# --- Signing in -----------------------------------------------------------------------


@pytest.fixture
def editors(django_user_model):
    return [
        django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)
        for name in ("alice", "bruno", "chloe", "dara", "emil", "farah", "gita")
    ]


def sign_in(username, password, address="203.0.113.5"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
    )
    return response


def signed_in(response):
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_an_account_is_locked_after_five_failures_from_anywhere(editors, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(4):
        response = sign_in("alice", "wrong guess", address=f"198.51.100.{attempt}")
        assert response.status_code == 200  # the login form again, with its error
        assert "Please enter the correct username and password" in response.content.decode()
    # The fifth failure locks the account.
    assert sign_in("alice", "wrong guess", address="198.51.100.9").status_code == 429
    # The right password no longer works, from a new address either.
    locked = sign_in("alice", PASSWORD, address="192.0.2.77")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Sign-in locked" in text and "axes_reset_username" in text
    assert "Try again in" in text
    assert signed_in(sign_in("bruno", PASSWORD, address="192.0.2.77"))  # others unaffected

    call_command("axes_reset_username", "alice", verbosity=0)
    assert signed_in(sign_in("alice", PASSWORD, address="192.0.2.77"))


def test_an_address_is_locked_after_five_failures_for_any_accounts(editors):
    for name in ("alice", "bruno", "chloe", "dara"):
        assert sign_in(name, "wrong guess", address="203.0.113.66").status_code == 200
    assert sign_in("emil", "wrong guess", address="203.0.113.66").status_code == 429
    assert sign_in("farah", PASSWORD, address="203.0.113.66").status_code == 429
    assert signed_in(sign_in("farah", PASSWORD, address="203.0.113.67"))

    call_command("axes_reset_ip", "203.0.113.66", verbosity=0)
    assert signed_in(sign_in("gita", PASSWORD, address="203.0.113.66"))


def test_the_lockout_lifts_by_itself_after_the_cool_off(editors, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", "wrong guess")
    assert sign_in("alice", PASSWORD).status_code == 429
    with time_machine.travel(settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert signed_in(sign_in("alice", PASSWORD, address="192.0.2.8"))


def test_a_success_forgets_earlier_failures(editors, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in("alice", "wrong guess")
    assert signed_in(sign_in("alice", PASSWORD))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in("alice", "wrong guess")
    assert signed_in(sign_in("alice", PASSWORD))


def test_staff_sessions_expire(editors, settings):
    client = Client(REMOTE_ADDR="192.0.2.9")
    client.post(reverse("admin:login"), {"username": "alice", "password": PASSWORD})
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 12 * 3600
    with time_machine.travel(timedelta(hours=12, minutes=1)):
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_weak_passwords_are_refused_when_an_account_is_made(staff_client, django_user_model):
    response = staff_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "password",
            "password2": "password",
        },
    )
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors.get("password2", []))
    assert "too common" in errors
    assert not django_user_model.objects.filter(username="newcomer").exists()


def test_the_admin_address_comes_from_the_environment():
    assert settings_value("__import__('django.urls').urls.reverse('admin:index')") == "/admin/"
    moved = settings_value(
        "__import__('django.urls').urls.reverse('admin:login')", ADMIN_URL="/newsroom-desk/"
    )
    assert moved == "/newsroom-desk/login/"
