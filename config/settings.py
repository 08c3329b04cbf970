"""Dateline settings: one file, driven by environment variables.

Defaults run on one machine with nothing but Python installed (SQLite, a file cache
shared by every process). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS and DEBUG=0.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# PRODUCTION=1 turns on HTTPS-only cookies, HSTS and hashed static files, and makes
# SECRET_KEY and ALLOWED_HOSTS mandatory. Without it the defaults suit one machine.
PRODUCTION = env_bool("PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if PRODUCTION:
    if not SECRET_KEY or not ALLOWED_HOSTS:
        raise ImproperlyConfigured("PRODUCTION=1 needs SECRET_KEY and ALLOWED_HOSTS.")
else:
    SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production-0123456789"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Search's stored vectors and ranking on PostgreSQL (blog/search.py); on SQLite the
    # app is inert and search uses FTS5.
    "django.contrib.postgres",
    # WordPress pages become flat pages at their old addresses; flat pages need sites.
    "django.contrib.sites",
    "django.contrib.flatpages",
    "markdownx",
    "taggit",
    "django_tasks_db",
    "axes",
    # History: every save of a post (with its thread and tags), update, source or
    # section is kept as a revision that can be compared and restored (blog/history.py).
    "reversion",
    "blog",
]

# The one site flat pages belong to (django.contrib.sites); its domain never builds an
# address: feeds and the admin's "View on site" take the host each request names
# (blog/feeds.py, blog/admin.py).
SITE_ID = 1

MIDDLEWARE = [
    # First: every answer (redirects and cached pages too) carries the request's id, and
    # every log line made while answering names it (blog/logging.py).
    "blog.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside the page cache: every answer, cached or not, gets a policy and a fresh nonce.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "blog.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Old WordPress addresses: `/?p=6` before the page cache (which would answer it with
    # the home page), and any 404 that was a page's address once.
    "blog.legacy.LegacyAddressMiddleware",
    # Anonymous readers are answered from the shared cache before sessions, CSRF and auth.
    "blog.caching.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Every POST that saves a post, update, source or section makes one revision of it,
    # with the user (blog/history.py): the admin, its actions and the live quick-add alike.
    "reversion.middleware.RevisionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Refuses logins from a locked-out account or address (django-axes); must be last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = os.environ.get("ROOT_URLCONF", "config.urls")  # `make bench` adds a view
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "blog.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the one writer work at once; IMMEDIATE avoids
    # "database is locked" when two requests upgrade to writers together.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: tests check that a second process's writes reach the cache.
    # One per test run, so two runs at once (two terminals, two agents) never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db.{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down or hung: a cache miss, never a 500 (blog/caching.py).
            "BACKEND": "blog.caching.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    # A file cache is shared by every process on this machine, so an edit made by
    # any process (a management command included) shows on the next request.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("CACHE_DIR", str(BASE_DIR / ".cache" / "django")),
        }
    }

# Sessions are rows in the database, read through the shared cache: any app server
# knows a session another one made, and losing the cache loses no session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "default"

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# The admin's address: moving it off /admin/ keeps drive-by scanners away from the login.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"

# django-axes checks every login first: after AXES_FAILURE_LIMIT failures an account is
# locked (from anywhere), and so is an address (for every account), for LOCKOUT_MINUTES.
# `manage.py axes_reset_username NAME` / `axes_reset_ip ADDRESS` unlock at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a proxy, the client is the address the last PROXY_COUNT proxies saw; nothing a
# client sends is trusted without it.
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0")) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Staff sessions end after SESSION_HOURS (default: a working day), signed in or not.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_HOURS", "12")) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Our scripts read the token from the form, never from the cookie.
CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # Uploads go to S3 or any S3-compatible store (MinIO, R2…), so every app server sees
    # them. Credentials left unset are found by boto3 itself (an instance role, ~/.aws).
    s3_options = {
        "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
        "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL"),
        "region_name": os.environ.get("AWS_S3_REGION_NAME"),
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
        # A CDN or public host that serves the bucket, e.g. media.example.com.
        "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN"),
    }
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **{name: value for name, value in s3_options.items() if value},
            # Plain, lasting URLs: cached pages keep them longer than a signature lasts,
            # so the bucket (or the CDN before it) must let anyone read.
            "querystring_auth": False,
            # As on disk: a second file with a taken name gets a new name, never replaces.
            "file_overwrite": False,
        },
    }

# Outside production, whitenoise serves straight from static/ (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security ---------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page of ours uses (blog/security.py sends them).
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
    "browsing-topics": [],
}

# Content Security Policy (Django's own middleware). No inline script or style anywhere:
# the one inline element, a post's JSON-LD, carries a nonce made fresh for every answer,
# cached ones included (blog/caching.py). Images may come from any HTTPS host, because
# posts embed them; nothing else leaves the site.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "https:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF],
    "frame-src": [CSP.NONE],
    "worker-src": [CSP.NONE],
    "manifest-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_CSP["upgrade-insecure-requests"] = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Logs go to stdout: one JSON object a line in production (LOG_FORMAT=json) for a log
# collector, plain lines otherwise. Each names its request's id (blog/logging.py), and
# `dateline.request` writes one line per request, so gunicorn's access log stays off.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT is json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "blog.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "blog.logging.JSONFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers would print its lines a second time (DEBUG) or mail them.
        "django": {"handlers": [], "level": "INFO"},
        # django-axes announces itself in every process, commands included.
        "axes.apps": {"level": "WARNING"},
    },
}

# --- Background tasks -------------------------------------------------------
# Django's tasks framework, queued in the database; `manage.py db_worker` runs them
# (make run starts one beside the web server).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Editor (django-markdownx) ----------------------------------------------
MARKDOWNX_MARKDOWNIFY_FUNCTION = "blog.markdown.render_markdown"
MARKDOWNX_UPLOAD_MAX_SIZE = 5 * 1024 * 1024
MARKDOWNX_UPLOAD_CONTENT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MARKDOWNX_SKIP_RESIZE = ("image/gif",)
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (1600, 1600), "quality": 85}
MARKDOWNX_MEDIA_PATH = "uploads/"
MARKDOWNX_SERVER_CALL_LATENCY = 400

# --- Dateline ---------------------------------------------------------------
DATELINE = {
    "SITE_NAME": os.environ.get("SITE_NAME", "Dateline"),
    "SITE_TAGLINE": os.environ.get("SITE_TAGLINE", "Commentary and news, as it develops"),
    # The authority part of tag: URIs (feed ids). Set once; never change it.
    "TAG_AUTHORITY": os.environ.get("TAG_AUTHORITY", "dateline.example"),
    "POSTS_PER_PAGE": 10,
    "MAX_BODY_CHARS": 100_000,
    "MAX_UPDATE_CHARS": 20_000,
    # The live thread: readers poll every LIVE_POLL_SECONDS; shared caches may keep the
    # answer LIVE_MAX_AGE seconds, so a CDN absorbs thousands of readers.
    "LIVE_POLL_SECONDS": int(os.environ.get("LIVE_POLL_SECONDS", "30")),
    "LIVE_MAX_AGE": int(os.environ.get("LIVE_MAX_AGE", "10")),
    "LIVE_UPDATES": 100,
    "FEED_ITEMS": int(os.environ.get("FEED_ITEMS", "20")),
    # Shared caches may keep a feed this long; readers revalidate with ETags after it.
    "FEED_MAX_AGE": int(os.environ.get("FEED_MAX_AGE", "300")),
    # Anonymous GETs of public pages and feeds are kept this long in the shared cache
    # (0 turns the page cache off); any content change makes them stale at once.
    "PAGE_CACHE_SECONDS": int(os.environ.get("PAGE_CACHE_SECONDS", "300")),
    # How long a CDN or caching proxy may serve a page before asking again, and how long
    # past that it may serve the old copy while it revalidates in the background.
    "SHARED_MAX_AGE": int(os.environ.get("SHARED_MAX_AGE", "60")),
    "STALE_WHILE_REVALIDATE": int(os.environ.get("STALE_WHILE_REVALIDATE", "60")),
    # The public address, for links that leave the request (WebSub pings).
    "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/"),
    # Optional WebSub hub (e.g. https://pubsubhubbub.appspot.com/): feeds advertise it
    # and publishing pings it in the background.
    "WEBSUB_HUB": os.environ.get("WEBSUB_HUB", ""),
    # How long a draft's preview link (/preview/…/) works after an editor makes it.
    "PREVIEW_HOURS": int(os.environ.get("PREVIEW_HOURS", "72")),
}
