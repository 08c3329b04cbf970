"""The page cache: one content version in the shared cache, and the public pages served by it.

Every write path calls `content_changed()`; it gives the site a new version, which every
cached page, validator and thread key includes, so every process sees a change on its
next request. A scheduled post or update is a change announced in advance: the version
remembers when the next one falls due and renews itself then, so no cron job is needed.
"""

import hashlib
import logging
import time
import uuid
from contextvars import ContextVar
from functools import wraps

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_etags, quote_etag

from blog.security import csp_nonce

VERSION_KEY = "dateline:content-version"
SHARED_KEY = "dateline:shared-version"


def code_fingerprint():
    """What the pages are made with: a deploy that changes a template or view starts afresh.

    Hashed from file contents, not times, so every app server running the same code
    shares cached pages and answers the same ETags.
    """
    digest = hashlib.sha256()
    for folder in ("blog", "templates", "config"):
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.suffix in {".py", ".html", ".txt", ".xml"}:
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = code_fingerprint()


def content_changed(using=None, shared=False):
    """Make cached pages stale: now, and again once the current transaction commits.

    The second bump matters: between our write and its commit, another process may render
    the old rows and cache them under the first new version. However many rows a
    transaction writes, it bumps once more at its commit.

    `shared` is for what many fragments show (a section's or tag's name, an author's,
    a source's): it also renews the fragments that are otherwise keyed by their own rows.
    """
    bump = new_shared_version if shared else new_version
    connection = transaction.get_connection(using)
    if connection.in_atomic_block and not any(
        callback is bump for _, callback, _ in connection.run_on_commit
    ):
        transaction.on_commit(bump, using=using)
    bump()


def new_version():
    """Store a fresh version, with the time at which the next scheduled item falls due."""
    from blog.models import Post, Update

    now = timezone.now()
    due = (
        Post.objects.filter(status=Post.Status.PUBLISHED, published_at__gt=now)
        .order_by()
        .values_list("published_at")
        .union(Update.objects.filter(published_at__gt=now).order_by().values_list("published_at"))
        .order_by("published_at")
        .first()
    )
    state = {
        "token": uuid.uuid4().hex,
        "changed_at": int(now.timestamp()),
        "next_due": due[0].timestamp() if due else None,
    }
    cache.set(VERSION_KEY, state, None)
    if scope := request_version.get():
        scope.pop("version", None)
    return state


def new_shared_version():
    # Its own key: a read-modify-write of one key could lose a bump made meanwhile.
    cache.set(SHARED_KEY, uuid.uuid4().hex, None)
    return new_version()


# Within one request the version is read once (PageCacheMiddleware opens the scope);
# a write made by the request itself clears it, so the request sees its own change.
request_version = ContextVar("request_version", default=None)


def current_version():
    """The site's content version: one cache read, and one query when it must be renewed."""
    scope = request_version.get()
    if scope is None:
        return read_version()
    if "version" not in scope:
        scope["version"] = read_version()
    return scope["version"]


def read_version():
    found = cache.get_many([VERSION_KEY, SHARED_KEY])
    state, shared = found.get(VERSION_KEY), found.get(SHARED_KEY)
    if state is None or shared is None:
        state, shared = new_shared_version(), cache.get(SHARED_KEY)
    elif state["next_due"] is not None and state["next_due"] <= time.time():
        # What fell due shows in lists and threads too, not only on whole pages.
        state, shared = new_shared_version(), cache.get(SHARED_KEY)
    return {**state, "shared": shared}


def remember(name, compute, seconds=3600, shared=False):
    """A value derived from content (a count, a tree), kept until the content changes.

    `shared=True` for what only changes with sections, tags, sources or authors.
    """
    version = current_version()
    key = f"derived:{RELEASE}:{version['shared' if shared else 'token']}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def fragment_key(shared, parts):
    """A rendered piece of a page, keyed by the rows it shows (and shared names, code)."""
    raw = "|".join(str(part) for part in (RELEASE, shared, *parts))
    return "fragment:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def rendered_fragments(items, key, render, seconds=86400):
    """[html for each item]: one cache read for all, rendering only the ones missing."""
    shared = current_version()["shared"]
    keys = [fragment_key(shared, key(item)) for item in items]
    found = cache.get_many(keys)
    missing = [(k, item) for k, item in zip(keys, items, strict=True) if k not in found]
    if missing:
        fresh = dict(zip((k for k, _ in missing), render([i for _, i in missing]), strict=True))
        cache.set_many(fresh, seconds)
        found.update(fresh)
    return [found[k] for k in keys]


READ_ONLY = ("GET", "HEAD")


def cacheable_request(request):
    """Anonymous GETs and HEADs only: a session cookie may mean staff, who see drafts."""
    return request.method in READ_ONLY and settings.SESSION_COOKIE_NAME not in request.COOKIES


# The query parameters a public page reads unless its public_page() names others; the rest
# (utm_source…) share the page's entry, so they cannot fill the cache with copies.
PAGE_PARAMETERS = ("page",)


def page_parameters(request):
    """The parameters this address's view reads (public_page(parameters=…))."""
    match = getattr(request, "resolver_match", None)
    return getattr(match.func, "page_parameters", PAGE_PARAMETERS) if match else PAGE_PARAMETERS


def page_key(request, version, parameters=PAGE_PARAMETERS):
    params = [(name, request.GET[name]) for name in parameters if name in request.GET]
    # Per scheme and host: pages, feeds and sitemaps carry absolute addresses on the host
    # the request named (ALLOWED_HOSTS bounds how many there are).
    origin = f"{request.scheme}://{request.get_host()}"
    raw = f"{RELEASE}|{version['token']}|{origin}{request.path}|{params!r}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def page_etag(key, max_age):
    """Names the version, the page and how long clients may keep it (signed by the hash),
    so a 304 needs no lookup: only a client sent this page at this version can hold it."""
    signed = hashlib.sha256(f"{key}|{max_age}".encode()).hexdigest()[:32]
    return quote_etag(f"{signed}.{max_age}")


def public_headers(response, key, version, max_age):
    """Validators, and how long browsers and shared caches (CDN, nginx) may keep the page."""
    response.headers["ETag"] = page_etag(key, max_age)
    response.headers["Last-Modified"] = http_date(version["changed_at"])
    patch_cache_control(
        response,
        public=True,
        max_age=max_age,
        # What readers may keep (a feed, a live poll), shared caches may keep as long.
        s_maxage=max_age or settings.DATELINE["SHARED_MAX_AGE"],
        stale_while_revalidate=settings.DATELINE["STALE_WHILE_REVALIDATE"],
    )
    patch_vary_headers(response, ("Cookie",))
    return response


def allow_methods(view, methods=READ_ONLY):
    """A 405 naming the methods the view takes (`Allow`) to any other, before the view runs.

    A view that takes only GET and HEAD is exempt from the CSRF check: no method is left
    that a forged request could use, and a POST gets the same 405 with a token or without.
    """

    @wraps(view)
    def allowed_view(request, *args, **kwargs):
        if request.method not in methods:
            return HttpResponseNotAllowed(methods)
        return view(request, *args, **kwargs)

    allowed_view.csrf_exempt = set(methods) <= set(READ_ONLY)
    return allowed_view


def public_page(view, max_age=None, methods=READ_ONLY, parameters=PAGE_PARAMETERS):
    """Mark a view's answers to anonymous GETs as public: PageCacheMiddleware caches them.

    `max_age` names the DATELINE setting for how long a browser or feed reader may reuse
    the answer without asking (none: revalidate every time). Public pages only read, so
    other methods are a 405 unless `methods` names them (see allow_methods).
    """

    @wraps(view)
    def public_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if cacheable_request(request):
            response.public_max_age = settings.DATELINE[max_age] if max_age else 0
        elif request.method in READ_ONLY:
            patch_cache_control(response, private=True, no_cache=True)
        return response

    allowed_view = allow_methods(public_view, methods)
    allowed_view.is_public_page = True
    # What chooses the page's content besides its path: keys it in the cache, and stays in
    # its canonical address.
    allowed_view.page_parameters = tuple(parameters)
    return allowed_view


# Stands for the CSP nonce in a stored page. Escaping turns any "<" a writer types into
# "&lt;", so this can only be where the template put the nonce.
NONCE_MARK = b"<!csp-nonce>"


def storable(request, response):
    """What the cache keeps of a page: its body and headers, without this answer's nonce.

    A nonce must never be sent twice, so the body keeps a mark where it was, and the CSP
    header (added outside this middleware) is never stored."""
    content = response.content
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:  # a LazyNonce is true only once something (a template) has used it
        content = content.replace(str(nonce).encode(), NONCE_MARK)
    return {"content": content, "headers": dict(response.items()), "nonce": bool(nonce)}


def with_nonce(request, stored):
    """A stored body with a nonce made for this answer; the CSP middleware sends the same."""
    if not stored.get("nonce"):
        return stored["content"]
    return stored["content"].replace(NONCE_MARK, csp_nonce(request).encode())


class PageCacheMiddleware:
    """Answer anonymous readers from the shared cache before the rest of the stack runs.

    Sits right after the security and static-file middleware: a hit skips sessions,
    CSRF, auth, URL resolution and the view. Only responses that public_page() marked
    are stored; anything else (staff, POSTs, cookies, errors) passes through untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        scope = request_version.set({})
        try:
            return self.respond(request)
        finally:
            request_version.reset(scope)

    def respond(self, request):
        view = cacheable_request(request) and self.public_view(request)
        if not view:
            return self.get_response(request)
        version = current_version()
        key = page_key(request, version, view.page_parameters)
        if response := self.not_modified(request, key, version):
            return response
        seconds = settings.DATELINE["PAGE_CACHE_SECONDS"]
        stored = cache.get(f"page:{key}") if seconds else None
        if stored is not None:
            response = HttpResponse(with_nonce(request, stored), headers=stored["headers"])
        else:
            response = self.get_response(request)
            max_age = getattr(response, "public_max_age", None)
            if max_age is None or response.status_code != 200 or response.cookies:
                return response
            public_headers(response, key, version, max_age)
            if seconds:
                cache.set(f"page:{key}", storable(request, response), seconds)
        return get_conditional_response(
            request,
            etag=response["ETag"],
            last_modified=version["changed_at"],
            response=response,
        )

    @staticmethod
    def public_view(request):
        """The public_page() view at this address, else None: only those consult the cache
        (the admin, /healthz and anything else pay nothing for it)."""
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return None
        return match.func if getattr(match.func, "is_public_page", False) else None

    @staticmethod
    def not_modified(request, key, version):
        """A 304 for a client holding this page's ETag at this version, without a lookup."""
        for tag in parse_etags(request.headers.get("If-None-Match", "")):
            max_age = tag.strip('"').rpartition(".")[2]
            if max_age.isdigit() and len(max_age) < 8 and tag == page_etag(key, int(max_age)):
                response = HttpResponseNotModified()
                return public_headers(response, key, version, int(max_age))
        return None


def connect_signals():
    """Rows we do not own reach pages too: taggit's tags, flat pages (and the sites they
    are shown on), and the names of authors."""
    from django.contrib.auth import get_user_model
    from django.contrib.flatpages.models import FlatPage
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from taggit.models import Tag, TaggedItem

    for model in (Tag, TaggedItem, FlatPage):
        post_save.connect(row_changed, sender=model, dispatch_uid=f"page-cache-{model.__name__}")
        post_delete.connect(row_changed, sender=model, dispatch_uid=f"page-gone-{model.__name__}")
    m2m_changed.connect(sites_changed, sender=FlatPage.sites.through, dispatch_uid="page-sites")
    post_save.connect(user_changed, sender=get_user_model(), dispatch_uid="page-cache-user")


def row_changed(sender, using, **kwargs):
    content_changed(using, shared=True)


def sites_changed(sender, using, action, **kwargs):
    if action.startswith("post_"):  # not again for pre_add, pre_remove, pre_clear
        content_changed(using, shared=True)


def user_changed(sender, using, update_fields=None, **kwargs):
    # Logging in stamps last_login: nothing readers see.
    if update_fields is None or set(update_fields) - {"last_login"}:
        content_changed(using, shared=True)


logger = logging.getLogger(__name__)


def fail_open(name, fallback):
    """RedisCache's method `name`, answering `fallback(...)` when Redis cannot be reached."""
    method = getattr(RedisCache, name)

    @wraps(method)
    def call(self, *args, **kwargs):
        if time.monotonic() < self.down_until:
            return fallback(*args, **kwargs)
        try:
            result = method(self, *args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            if not self.down_until:
                logger.warning("Cache unreachable, pages made without it: %s", error)
            self.down_until = time.monotonic() + self.RETRY_SECONDS
            return fallback(*args, **kwargs)
        if self.down_until:
            logger.warning("Cache reachable again.")
            self.down_until = 0.0
        return result

    return call


def missing(key, *args, **kwargs):
    raise ValueError(f"Key {key!r} not found.")


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, except that a Redis it cannot reach is an empty cache.

    Pages are then made from the database, slower but right, instead of failing. After a
    failure the process leaves Redis alone for RETRY_SECONDS, so an outage costs one failed
    connection a second rather than one per cache call; short socket timeouts bound what a
    Redis that hangs can cost. OPTIONS may override the timeouts.
    """

    RETRY_SECONDS = 1.0
    TIMEOUTS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.5}

    def __init__(self, server, params):
        params = {**params, "OPTIONS": {**self.TIMEOUTS, **params.get("OPTIONS", {})}}
        super().__init__(server, params)
        self.down_until = 0.0

    get = fail_open("get", lambda key, default=None, *args, **kwargs: default)
    get_many = fail_open("get_many", lambda keys, *args, **kwargs: {})
    has_key = fail_open("has_key", lambda *args, **kwargs: False)
    add = fail_open("add", lambda *args, **kwargs: False)
    set = fail_open("set", lambda *args, **kwargs: None)
    set_many = fail_open("set_many", lambda data, *args, **kwargs: list(data))
    touch = fail_open("touch", lambda *args, **kwargs: False)
    delete = fail_open("delete", lambda *args, **kwargs: False)
    delete_many = fail_open("delete_many", lambda *args, **kwargs: None)
    incr = fail_open("incr", missing)
    clear = fail_open("clear", lambda: None)
