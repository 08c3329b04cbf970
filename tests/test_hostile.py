"""Hostile input: whatever a client sends to any address is a 4xx or a form error, never a 500."""

import re
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
import reversion
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.flatpages.models import FlatPage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from reversion.models import Version
from taggit.models import Tag

from blog import preview
from blog.models import Post, Source, Update
from tests.admin_forms import form_data
from tests.factories import (
    CategoryFactory,
    PostFactory,
    SourceFactory,
    UpdateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# What a client can put where the server expects an id, a number or a slug.
HOSTILE_VALUES = [
    "99999999999999999999",
    "0",
    "-1",
    "1.5",
    "1e3",
    "abc",
    "ünïcødé",
    "\u202eevil",  # right-to-left override
    "📰",
    "%00",
    "%ff",
    "..%2f..%2fetc%2fpasswd",
    "x" * 10240,
]

# The same, as a form field carries them (no percent-decoding on the way).
HOSTILE_FIELDS = ["abc", "1.5", "-1", "", "1e3", "99999999999999999999", "\x00", "x" * 10240]


def updates_url(post):
    return reverse("blog:post_updates", args=[*post.url_date(), post.slug])


# --- Read-only pages answer 405 to anything but GET and HEAD ----------------------------


@pytest.fixture
def story():
    return PostFactory(slug="vote-delayed", title="Vote delayed", is_developing=True)


def csrf_token(browser, url):
    browser.get(url)
    return browser.cookies["csrftoken"].value


@pytest.mark.parametrize("staff", [False, True], ids=["anonymous", "staff"])
def test_post_with_a_valid_csrf_token_to_a_post_page_is_a_405(story, staff):
    browser = Client(enforce_csrf_checks=True)
    if staff:
        browser.force_login(UserFactory(is_superuser=True))
    # A staff page carries the update form (and so the cookie); a reader's does not.
    token = csrf_token(browser, story.get_absolute_url() if staff else reverse("admin:login"))
    response = browser.post(
        story.get_absolute_url(),
        {"csrfmiddlewaretoken": token, "kind": "update", "body": "Sneaked in."},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert story.title not in response.content.decode()
    assert not story.updates.exists()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_read_only_pages_and_feeds_refuse_other_methods(story, method):
    UpdateFactory(post=story)
    year, month = story.url_date()
    urls = [
        reverse("blog:home"),
        reverse("blog:feed"),
        reverse("blog:feed_atom"),
        reverse("blog:category", args=[story.category.slug]),
        reverse("blog:category_feed", args=[story.category.slug]),
        reverse("blog:post_feed", args=[year, month, story.slug]),
        reverse("blog:month", args=[year, month]),
        reverse("blog:healthz"),
    ]
    # Without a CSRF token too: the answer does not depend on one.
    browser = Client(enforce_csrf_checks=True)
    for url in urls:
        response = browser.generic(method, url)
        assert (response.status_code, response["Allow"]) == (405, "GET, HEAD"), url


def test_updates_endpoint_allows_post_and_says_so(story):
    response = Client().put(updates_url(story))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize("with_token", [False, True], ids=["no-token", "token"])
def test_readers_cannot_post_updates_with_or_without_a_token(story, with_token):
    browser = Client(enforce_csrf_checks=True)
    extra = {"HTTP_X_CSRFTOKEN": csrf_token(browser, reverse("admin:login"))} if with_token else {}
    response = browser.post(updates_url(story), {"kind": "update", "body": "spam"}, **extra)
    assert response.status_code in (403, 405)
    assert not Update.objects.exists()


# --- Tampered admin forms are form errors ----------------------------------------------


def test_tampered_category_is_a_form_error(staff_client):
    post = PostFactory()
    for url in (reverse("admin:blog_post_add"), reverse("admin:blog_post_change", args=[post.pk])):
        data = {**form_data(staff_client.get(url)), "title": "Tampered", "slug": "tampered"}
        for value in HOSTILE_FIELDS:
            response = staff_client.post(url, {**data, "category": value})
            assert response.status_code == 200, (url, value)
            assert "category" in response.context["adminform"].form.errors, (url, value)
    assert list(Post.objects.all()) == [post]
    assert Post.objects.get().slug != "tampered"


def test_tampered_affiliation_is_a_form_error(staff_client):
    person = SourceFactory()
    url = reverse("admin:blog_source_add")
    data = {**form_data(staff_client.get(url)), "name": "Jo Ward", "slug": "jo-ward"}
    # A person is no outlet: the field only takes outlets, however the request was made.
    for value in [*(v for v in HOSTILE_FIELDS if v), str(person.pk)]:
        response = staff_client.post(url, {**data, "affiliation": value})
        assert response.status_code == 200, value
        assert "affiliation" in response.context["adminform"].form.errors, value
    assert list(Source.objects.all()) == [person]


TAMPERED_POST_FIELDS = [
    {"tags": '"unclosed, \x00, ' + "x" * 10240},
    {"tags": "," * 5000},
    {"status": "garbage"},
    {"status": "\x00"},
    {"published_at_0": "2026-13-45", "published_at_1": "25:61"},
    {"published_at_0": "x" * 10240, "published_at_1": "\x00"},
    {"published_at_0": "99999-01-01", "published_at_1": "00:00"},
    {"author": "abc"},
    {"author": "99999999999999999999"},
    {"slug": "ünïcødé/../x"},
    {"updates-TOTAL_FORMS": "abc"},
    {"updates-TOTAL_FORMS": "-1"},
    {"updates-INITIAL_FORMS": "abc"},
    {"updates-INITIAL_FORMS": "5"},
    {"updates-MAX_NUM_FORMS": "-1"},
    {"quotes-TOTAL_FORMS": "5", "quotes-INITIAL_FORMS": "5"},
    {"updates-0-kind": "garbage", "updates-0-body": "x"},
    {"updates-0-kind": "update", "updates-0-body": "x", "updates-0-published_at_0": "x"},
    {"updates-0-kind": "update", "updates-0-body": "x", "updates-0-DELETE": "\x00"},
]


def test_a_tag_longer_than_its_column_is_a_form_error(staff_client):
    url = reverse("admin:blog_post_add")
    data = {**form_data(staff_client.get(url)), "title": "Tagged", "slug": "tagged"}
    data["category"] = str(CategoryFactory().pk)
    response = staff_client.post(url, {**data, "tags": "budget, " + "x" * 10240})
    assert response.status_code == 200
    assert "tags" in response.context["adminform"].form.errors
    assert not Post.objects.exists() and not Tag.objects.exists()


def test_tampered_post_fields_are_form_errors(staff_client):
    post = PostFactory()
    url = reverse("admin:blog_post_change", args=[post.pk])
    data = form_data(staff_client.get(url))
    for changes in TAMPERED_POST_FIELDS:
        response = staff_client.post(url, {**data, **changes})
        assert response.status_code in (200, 302), changes


def test_a_tampered_form_count_builds_no_more_forms_than_the_post_has_rows(staff_client):
    post = PostFactory()
    UpdateFactory(post=post)
    url = reverse("admin:blog_post_change", args=[post.pk])
    data = form_data(staff_client.get(url))
    for count in ("99999999999999999999", "100000", "2000"):
        response = staff_client.post(url, {**data, "updates-TOTAL_FORMS": count})
        assert response.status_code == 200
        formsets = [inline.formset for inline in response.context["inline_admin_formsets"]]
        assert all(formset.total_form_count() <= 1 + 20 for formset in formsets), count
        assert "Please submit at most" in response.content.decode()


def test_tampered_inline_ids_touch_no_other_post(staff_client):
    post, other = PostFactory(), PostFactory()
    mine = UpdateFactory(post=post, body="Mine.")
    theirs = UpdateFactory(post=other, body="Theirs.")
    url = reverse("admin:blog_post_change", args=[post.pk])
    data = form_data(staff_client.get(url))
    for value in ("abc", "-1", "99999999999999999999", "\x00", str(theirs.pk)):
        changes = {"updates-0-id": value, "updates-0-body": "Overwritten."}
        response = staff_client.post(url, {**data, **changes, "updates-0-DELETE": "on"})
        # The formset treats an id that is not one of this post's updates as a new update.
        assert response.status_code in (200, 302), value
    assert Update.objects.get(pk=theirs.pk).body == "Theirs."
    assert Update.objects.get(pk=mine.pk).body == "Mine."


def test_tampered_action_selections_are_refused(staff_client):
    post = PostFactory(status=Post.Status.DRAFT, published_at=None)
    url = reverse("admin:blog_post_changelist")
    for data in [
        {"action": "publish", "_selected_action": ["abc"]},
        {"action": "publish", "_selected_action": [post.pk, "99999999999999999999"]},
        {"action": "publish", "_selected_action": ["1.5", "\x00"]},
        {"action": "delete_selected", "_selected_action": ["abc"]},
        {"action": "delete_selected", "_selected_action": ["abc"], "post": "yes"},
        {"action": "garbage", "_selected_action": [post.pk]},
        {"action": "publish", "select_across": "abc", "index": "abc"},
        {"action": "publish", "_selected_action": ["-1"], "index": "99999999999999999999"},
        {"action": "\x00"},
    ]:
        response = staff_client.post(url, data)
        assert response.status_code in (200, 302, 400), data
        assert Post.objects.get(pk=post.pk).status == Post.Status.DRAFT, data


def test_other_apps_admins_refuse_tampering_too(staff_client):
    """Users, groups and tags are registered by Django and taggit, not by us."""
    for url in (reverse("admin:auth_user_changelist"), reverse("admin:taggit_tag_changelist")):
        for selected in (["abc"], ["99999999999999999999"], ["\x00"]):
            response = staff_client.post(
                url, {"action": "delete_selected", "_selected_action": selected}
            )
            assert response.status_code == 400, (url, selected)
    group = Group.objects.create(name="Desk")
    response = staff_client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Desk", "permissions": ["99999999999999999999"]},
    )
    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()


def test_tampered_merge_target_is_a_form_error(staff_client):
    sources = [SourceFactory(), SourceFactory()]
    outsider = SourceFactory()
    url = reverse("admin:blog_source_changelist")
    selection = {"action": "merge", "_selected_action": [s.pk for s in sources], "confirm": "yes"}
    for target in ("abc", "99999999999999999999", "-1", "\x00", "", str(outsider.pk)):
        response = staff_client.post(url, {**selection, "target": target})
        assert response.status_code == 200, target
        assert response.context["form"].errors, target
    assert Source.objects.count() == 3


def test_thread_toggle_refuses_missing_posts_and_other_methods(staff_client):
    post = PostFactory(is_developing=True)
    url = reverse("admin:blog_post_thread", args=[post.pk])
    assert staff_client.get(url).status_code == 405
    for missing in (post.pk + 1000, 99999999999999999999):
        path = url.replace(f"/{post.pk}/", f"/{missing}/")
        assert staff_client.post(path, {"open": "0"}).status_code == 404
    response = staff_client.post(url, {"open": "\x00", "next": "\x00javascript:alert(1)"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:blog_post_change", args=[post.pk])


CHANGELIST_QUERIES = [
    "o=garbage",
    "o=1.-2.99999999999999999999",
    "p=-1",
    "p=abc",
    "p=99999999999999999999",
    "q=" + "x" * 10240,
    "q=%00",
    "published_at__gte=x",
    "published_at__year=abc",
    "published_at__month=13&published_at__year=2026",
    "published_at__day=99&published_at__month=1&published_at__year=2026",
    "published_at__year=99999999999999999999",
    "author__id__exact=abc",
    "category__id__exact=99999999999999999999",
    "is_developing__exact=garbage",
    "status__exact=%00",
    "kind__exact=%ff",
    "e=1",
    "_popup=1",
    "_to_field=password",
    "_to_field=%00",
    "all=&p=1",
    "_changelist_filters=q%3D%2500",
]


def test_changelists_survive_tampered_queries(staff_client):
    PostFactory()
    SourceFactory()
    for model in ("post", "source", "category"):
        url = reverse(f"admin:blog_{model}_changelist")
        for query in CHANGELIST_QUERIES:
            assert staff_client.get(f"{url}?{query}").status_code < 500, (model, query)


def test_autocomplete_survives_tampered_parameters(staff_client):
    CategoryFactory()
    url = reverse("admin:autocomplete")
    for query in [
        "app_label=blog&model_name=post&field_name=category&term=" + "x" * 10240,
        "app_label=blog&model_name=post&field_name=category&term=%00",
        "app_label=blog&model_name=post&field_name=category&term=a&page=abc",
        "app_label=blog&model_name=post&field_name=category&term=a&page=-1",
        "app_label=blog&model_name=post&field_name=category&page=99999999999999999999",
        "app_label=blog&model_name=source&field_name=affiliation&term=%ff",
        "app_label=blog&model_name=post&field_name=author",
        "app_label=blog&model_name=post&field_name=password",
        "app_label=blog&model_name=garbage&field_name=category",
        "app_label=%00&model_name=post&field_name=category",
        "app_label=auth&model_name=user&field_name=groups",
        "",
    ]:
        assert staff_client.get(f"{url}?{query}").status_code < 500, query


# --- Anonymous readers reach only what is published -------------------------------------


def test_anonymous_readers_cannot_reach_drafts_or_scheduled_posts():
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None, is_developing=True)
    scheduled = PostFactory(published_at=timezone.now() + timedelta(days=1), is_developing=True)
    browser = Client()
    for post in (draft, scheduled):
        for name in ("blog:post", "blog:post_updates", "blog:post_feed", "blog:post_feed_atom"):
            response = browser.get(reverse(name, args=[*post.url_date(), post.slug]))
            assert response.status_code == 404, (post, name)
            assert post.title not in response.content.decode()
        response = browser.post(updates_url(post), {"kind": "update", "body": "spam"})
        assert response.status_code in (403, 404, 405)
    assert not Update.objects.exists()


def test_anonymous_readers_cannot_reach_the_admin_or_the_editor():
    post = PostFactory(is_developing=True)
    browser = Client()
    login = reverse("admin:login")
    for url in (
        reverse("admin:index"),
        reverse("admin:blog_post_changelist"),
        reverse("admin:blog_post_change", args=[post.pk]),
        reverse("admin:blog_source_changelist"),
        reverse("admin:autocomplete") + "?app_label=blog&model_name=post&field_name=category",
    ):
        response = browser.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    toggle = browser.post(reverse("admin:blog_post_thread", args=[post.pk]), {"open": "0"})
    assert toggle.status_code == 302 and toggle["Location"].startswith(login)
    for name in ("markdownx_markdownify", "markdownx_upload"):
        assert browser.post(reverse(name), {"content": "# hi"}).status_code == 403
    response = browser.post(updates_url(post), {"kind": "update", "body": "spam"})
    assert response.status_code in (403, 405)
    assert not Update.objects.exists()
    post.refresh_from_db()
    assert post.is_developing


# --- Every address, walked ---------------------------------------------------------

# A parameter of a path: `<converter:name>` in a route, `(?P<name>…)` in a regex.
PARAMETER = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


@dataclass
class Address:
    name: str
    route: str

    @property
    def parameters(self):
        return [match["name"] or match["group"] for match in PARAMETER.finditer(self.route)]

    def fill(self, values):
        return "/" + PARAMETER.sub(lambda m: str(values[m["name"] or m["group"]]), self.route)


def every_address(resolver=None, prefix="", namespace=""):
    """Every URL pattern the project serves, the admin's and other apps' included: a new
    pattern is walked without a change here."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = str(pattern.pattern).removeprefix("^").removesuffix("$")
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from every_address(pattern, prefix + route, inner)
        elif isinstance(pattern, URLPattern):
            yield Address(f"{namespace}{pattern.name or '-'}", prefix + route)


HOSTILE_QUERIES = [
    "page=0",
    "page=-1",
    "page=99999999999999999999",
    "page=abc",
    "page=1e9",
    "page=%00",
    "page=1&page=2",
    "o=garbage",
    "o=1.-2.99",
    "p=-1",
    "p=abc",
    "q=" + "x" * 10240,
    "q=%00",
    "e=1",
    "_popup=1",
    "_to_field=password",
    "published_at__gte=x",
    "published_at__day=99",
    "status__exact=%00",
    "category__id__exact=abc",
    "_changelist_filters=page%3D%00",
]

HOSTILE_HEADERS = [
    {"HTTP_ACCEPT": "application/json"},
    {"HTTP_ACCEPT": "*/*;q=garbage"},
    {"HTTP_ACCEPT": "text/html;q=0.9, " * 700},
    {"HTTP_IF_NONE_MATCH": '"garbage"'},
    {"HTTP_IF_NONE_MATCH": "*"},
    {"HTTP_IF_NONE_MATCH": '"' + "x" * 10240 + '"'},
    {"HTTP_IF_NONE_MATCH": '"abc.99999999999999999999", W/"", ,'},
    {"HTTP_IF_MODIFIED_SINCE": "garbage"},
    {"HTTP_IF_MODIFIED_SINCE": "Sun, 99 Foo 99999 99:99:99 GMT"},
    {"HTTP_RANGE": "bytes=garbage"},
    {"HTTP_ACCEPT_LANGUAGE": "x" * 1000},
    {"HTTP_COOKIE": "sessionid=garbage; csrftoken=%00"},
]

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


@pytest.fixture
def site():
    """A row of everything an address can name, and the values that name them."""
    editor = UserFactory(username="walker-editor", is_superuser=True)
    with reversion.create_revision():  # a version for the history pages to show
        post = PostFactory(author=editor, is_developing=True, tags=["budget"])
        UpdateFactory(post=post)
        SourceFactory(slug="dana-reyes")
    UserFactory(username="another-writer")
    Group.objects.get_or_create(name="Editor")  # made by migration 0012
    about = FlatPage.objects.create(url="/about/", title="About", content="<p>Who we are.</p>")
    about.sites.add(settings.SITE_ID)
    with reversion.create_revision():
        draft = PostFactory(author=editor, status=Post.Status.DRAFT, published_at=None)
    return {
        "editor": editor,
        "post": post,
        "preview_token": preview.make_link(draft)[0].split("/")[2],
        "slugs": {
            "category/": post.category.slug,
            "tag/": Tag.objects.get().slug,
            "source/": "dana-reyes",
        },
    }


def valid_values(address, site):
    """Values that name real rows, so that a request with one of them tampered reaches the
    view; a parameter this does not know is "1"."""
    year, month = site["post"].url_date()
    # `url`: a flat page's address (blog:page), the rest of the admin's (its catch-all).
    values = {"year": f"{year:04d}", "month": f"{month:02d}", "app_label": "blog", "url": "about/"}
    values["slug"] = next(
        (slug for prefix, slug in site["slugs"].items() if address.route.startswith(prefix)),
        site["post"].slug,
    )
    values["post_id"] = values["id"] = values["object_id"] = site["post"].pk
    values["token"] = site["preview_token"]
    values["content_type_id"] = ContentType.objects.get_for_model(Post).pk
    if model_admin := admin_of(address):
        # Not the walking editor: a tampered password form must not log the walk out.
        rows = model_admin.model._default_manager.exclude(pk=site["editor"].pk).order_by("pk")
        values["object_id"] = values["id"] = getattr(rows.first(), "pk", 1)
        if "version_id" in address.parameters:  # a version of that row
            row = values["post_id"] if model_admin.model is Post else values["object_id"]
            versions = Version.objects.get_for_object_reference(model_admin.model, row)
            values["version_id"] = versions.values_list("pk", flat=True).first()
    return {name: values.get(name, "1") for name in address.parameters}


def admin_of(address):
    """The model admin whose page the address is, if it is one."""
    for model, model_admin in admin.site._registry.items():
        if address.name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
            return model_admin
    return None


class Walk:
    """Sends requests and keeps every 5xx, to report them all at once."""

    def __init__(self, client, user=None):
        self.client, self.user = client, user
        self.failures, self.count = [], 0

    def send(self, method, path, data=None, **headers):
        self.count += 1
        if data is None:
            response = self.client.generic(method, path, **headers)
        else:
            response = self.client.post(path, data, **headers)
        if response.status_code >= 500:
            error = response.exc_info[1] if response.exc_info else response.status_code
            sent = f"{method} {path[:100]} {str(headers)[:60] if headers else ''}"
            self.failures.append(f"{sent} → {error!r}"[:300])
        return response

    def logged_in(self):
        if self.user and "_auth_user_id" not in self.client.session:
            self.client.force_login(self.user)  # the walk went through the logout page


def walk(walker, site, spread):
    """Every address: its valid URL with every method; with each parameter tampered; with
    hostile queries and headers. `spread` > 1 sends an address of one object (a parameter
    in its path) only every spread-th query and header, in turn, so all are still sent,
    to different addresses: lists read queries, pages of one object mostly do not."""
    for index, address in enumerate(every_address()):
        walker.logged_in()
        valid = valid_values(address, site)
        url = address.fill(valid)
        for method in METHODS:
            walker.send(method, url)
        for name in address.parameters:
            for value in HOSTILE_VALUES:
                walker.send("GET", address.fill({**valid, name: value}))
        step = spread if address.parameters else 1
        queries = HOSTILE_QUERIES[index % step :: step]
        for query in queries:
            walker.send("GET", f"{url}?{query}")
        for headers in HOSTILE_HEADERS[index % spread :: spread]:
            walker.send("GET", url, **headers)


def test_every_address_answers_hostile_input_with_a_4xx_never_a_500(site):
    anonymous = Walk(Client(raise_request_exception=False))
    staff = Walk(Client(raise_request_exception=False), user=site["editor"])
    started = time.monotonic()
    walk(anonymous, site, spread=1)
    # The admin has far more pages, and most ignore queries and headers: spread them.
    walk(staff, site, spread=4)
    addresses = len(list(every_address()))
    took = time.monotonic() - started
    print(f"{addresses} addresses, {anonymous.count} + {staff.count} requests in {took:.1f}s")
    failures = anonymous.failures + staff.failures
    assert not failures, f"{len(failures)} answers were 5xx:\n" + "\n".join(failures)


# Sent in every field of a form at once, then in every formset count.
FORM_VALUES = ["abc", "99999999999999999999", "\x00" + "x" * 10240]
FORMSET_COUNTS = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
FIELD_NAME = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')


def test_every_admin_form_takes_tampered_values_without_a_500(site):
    """Each add, change and list page of every admin (ours, and Django's and other apps',
    which blog.apps registers again as TamperProofAdmins), its form posted back tampered:
    a form error, a redirect or a 4xx. A new admin, field or widget is tried as it comes."""
    staff = Walk(Client(raise_request_exception=False), user=site["editor"])
    pages = ("_add", "_change", "_changelist")
    for address in every_address():
        if not (admin_of(address) and address.name.endswith(pages)):
            continue
        staff.logged_in()
        url = address.fill(valid_values(address, site))
        page = staff.client.get(url)
        if page.status_code != 200 and not address.name.startswith("admin:blog_"):
            continue  # nobody may add a login attempt; no task result exists to change
        assert page.status_code == 200, url
        data = form_data(page)
        names = (set(data) | set(FIELD_NAME.findall(page.content.decode()))) - {
            "csrfmiddlewaretoken"
        }
        counts = {name for name in names if name.endswith(FORMSET_COUNTS)}
        for value in FORM_VALUES:
            staff.send("POST", url, {**data, **dict.fromkeys(names - counts, value)})
            if counts:
                staff.send("POST", url, {**data, **dict.fromkeys(counts, value)})
    assert staff.count >= 9 * len(FORM_VALUES)
    assert not staff.failures, f"{len(staff.failures)} answers were 5xx:\n" + "\n".join(
        staff.failures
    )


def test_anonymous_visitors_reach_no_address_but_public_pages_and_the_login(site):
    """The admin, the editor's endpoints and whatever else a new app mounts: a redirect to the
    login page, or a 4xx, for every method."""
    browser = Client()
    login, index = reverse("admin:login"), reverse("admin:index")
    reached = []
    for address in every_address():
        if address.name.startswith("blog:") or address.name == "admin:login":
            continue
        url = address.fill(valid_values(address, site))
        for method in METHODS:
            response = browser.generic(method, url)
            to = response.get("Location", "")
            if response.status_code < 400 and not (to.startswith(login) or to == index):
                reached.append(f"{method} {url} → {response.status_code} {to}")
    assert not reached, "\n".join(reached)


# Admin actions that change a post, reached by a form's POST only; and autosave, whose
# GET is a 404 until a copy is kept (tests/test_autosave.py).
POST_ONLY = ("_thread", "_preview_link", "_autosave")


def test_the_walk_reaches_the_pages_it_means_to(site):
    """The walk's valid URLs are real pages: tampering with them reaches the views."""
    reader, editor = Client(), Client()
    editor.force_login(site["editor"])
    for address in every_address():
        url = address.fill(valid_values(address, site))
        if address.name.startswith("blog:"):
            assert reader.get(url).status_code == 200, url
        elif address.name.startswith("admin:blog_") and not address.name.endswith(POST_ONLY):
            assert editor.get(url).status_code == 200, url
    names = {address.name for address in every_address()}
    assert {"admin:blog_post_change", "markdownx_upload", "blog:post_updates"} <= names
