"""A post's pictures as pages show them: its lead image at a few widths, a 1200×630 crop
for sharing, or a share card drawn for a post without an image.

They are files in media storage, named after what they show, so nothing in the database
records them: `renditions/<image>-800w.jpg` and `renditions/<image>-1200x630.jpg` beside
an image's name (a new upload gets a new name), `cards/<post id>/<hash of title, section
and site name>.png` for a card (a new title makes a new card). They are made when a post
is saved, after the transaction commits, and again on first use if one is missing; a
failure is logged and the page falls back on the original image or the site's picture.
"""

import hashlib
import logging
import math
import posixpath

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from PIL import Image

from blog import images

log = logging.getLogger(__name__)

WIDTHS = (480, 800, 1200, 1600)
# The width a browser without srcset gets, and what width/height describe.
DEFAULT_WIDTH = 800
# How wide the image is drawn (static/css/site.css): the column on a post's page, a
# thumbnail in lists.
SIZES = {
    "page": "(min-width: 42.5rem) 40rem, calc(100vw - 2.5rem)",
    "list": "(min-width: 30rem) 9rem, 6rem",
}
# What was made for an image is remembered for a day (then its files are looked for
# again, and made if they went missing); a failure is tried again after a minute.
KEEP, RETRY = 86400, 60
DESIGN = "1"  # change when renditions or cards are drawn differently, to make them anew


# --- A lead image's renditions -----------------------------------------------------


def image_set(name):
    """What was made for the stored image `name`, making what is missing:
    {"width", "height", "renditions": [(width, height, name)], "social": name},
    or {} if it cannot be read."""
    key = cache_key("image", name)
    found = cache.get(key)
    if found is None:
        try:
            found = make_image_set(name)
        except Exception:  # noqa: BLE001 (a page shows the original instead)
            log.exception("Could not make the renditions of %s", name)
            found = {}
        cache.set(key, found, KEEP if found else RETRY)
    return found


def make_image_set(name):
    with default_storage.open(name) as file, Image.open(file) as image:
        width, height = image.size
        # An animation is shown as it is; its first frame is what a share shows.
        animated = getattr(image, "n_frames", 1) > 1
        sizes = [] if animated else [(w, max(1, round(height * w / width))) for w in WIDTHS]
        sizes = [size for size in sizes if size[0] < width]  # never scaled up
        kind = image.format if image.format in {"JPEG", "PNG", "WEBP"} else "PNG"
        extension = images.FORMATS[kind][0]
        made = [(w, h, derived(name, f"{w}w", extension)) for w, h in sizes]
        social = derived(name, "1200x630", "jpg")
        missing = {n for n in [*(n for _, _, n in made), social] if not default_storage.exists(n)}
        if missing and kind == "JPEG":
            # Decoded at a fraction of its size when that still covers every picture made
            # from it: much faster for a large photo.
            need = max([*(w for w, _ in sizes), images.SOCIAL_SIZE[0], 630 * width / height])
            image.draft(None, (math.ceil(need), math.ceil(need * height / width)))
        for w, h, target in made:
            if target in missing:
                store(target, images.encode([images.resized(image, (w, h))], kind, [0], None))
        if social in missing:
            store(social, images.social_crop(image))
    return {"width": width, "height": height, "renditions": made, "social": social}


def derived(name, suffix, extension):
    stem = posixpath.splitext(name)[0]
    return f"renditions/{stem}-{suffix}.{extension}"


def store(name, data):
    """Write data at exactly name (a process that made the same file first wins)."""
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:
        default_storage.delete(saved)


def lead_image(post, placement="page"):
    """What an <img> of the post's image needs (src, srcset, sizes, width, height, alt,
    eager), or None for a post without one."""
    if not post.image:
        return None
    found = image_set(post.image.name)
    shown = {"alt": post.image_alt, "eager": placement == "page", "src": post.image.url}
    if not found:
        return shown
    original = (found["width"], found["height"], post.image.name)
    candidates = found["renditions"]
    # The original joins them unless it is far larger than any screen needs.
    if not candidates or original[0] <= WIDTHS[-1]:
        candidates = [*candidates, original]
    width, height, name = next((c for c in candidates if c[0] >= DEFAULT_WIDTH), candidates[-1])
    return {
        **shown,
        "src": default_storage.url(name),
        "srcset": ", ".join(f"{default_storage.url(n)} {w}w" for w, _, n in candidates),
        "sizes": SIZES[placement],
        "width": width,
        "height": height,
    }


# --- What a share shows --------------------------------------------------------------


def social_image(post, request=None):
    """The picture for og:image and twitter:image: the post's image cut to 1200×630, else
    its share card. {"url", "width", "height", "type"}, the URL absolute when a request is
    given; None when neither can be made (use the site's picture)."""
    name, kind = None, None
    if post.image:
        name, kind = image_set(post.image.name).get("social"), "image/jpeg"
    if name is None and post.pk is not None:
        name, kind = share_card(post), "image/png"
    if name is None:
        return None
    url = default_storage.url(name)
    if request is not None:
        url = request.build_absolute_uri(url)
    width, height = images.SOCIAL_SIZE
    return {"url": url, "width": width, "height": height, "type": kind}


def social_image_url(post, request=None):
    image = social_image(post, request)
    return image and image["url"]


def share_card(post):
    """The name of the post's share card, drawing it if it is not there yet; None if it
    cannot be drawn."""
    section = section_name(post)
    site_name = settings.DATELINE["SITE_NAME"]
    fingerprint = hashlib.sha256(
        "\x00".join([DESIGN, post.title, section, site_name]).encode()
    ).hexdigest()[:20]
    name = f"cards/{post.pk}/{fingerprint}.png"
    key = cache_key("card", name)
    if cache.get(key):
        return name
    try:
        if not default_storage.exists(name):
            store(name, images.share_card(post.title, section, site_name))
    except Exception:  # noqa: BLE001 (the page falls back on the site's picture)
        log.exception("Could not draw the share card of post %s", post.pk)
        return None
    cache.set(key, True, KEEP)
    return name


def section_name(post):
    from blog.models import Category, Post

    if Post.category.is_cached(post):
        return post.category.name
    # The cached tree, not a query: pages that show a card already read it.
    category = Category.tree().get(post.category_id)
    return category.name if category else ""


def cache_key(kind, name):
    return f"renditions:{DESIGN}:{kind}:{hashlib.sha256(name.encode()).hexdigest()[:32]}"


# --- Made when a post is saved -------------------------------------------------------


def connect_signals():
    from blog.models import Post

    post_save.connect(post_saved, sender=Post, dispatch_uid="renditions-saved")
    post_delete.connect(post_deleted, sender=Post, dispatch_uid="renditions-deleted")


# What the pictures show: a save that changes none of these has nothing to make.
SHOWN = {"title", "category", "image"}


def post_saved(sender, instance, using, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and not SHOWN & set(update_fields)):
        return
    # After the commit: pictures take a moment to make, and must not hold the write lock
    # nor fail the save.
    transaction.on_commit(lambda: prepare(instance), using=using)


def prepare(post):
    """Make the post's pictures now, rather than on its first reader's request."""
    try:
        if post.image:
            image_set(post.image.name)
            remove_cards(post.pk)
        else:
            remove_cards(post.pk, keep=share_card(post))
    except Exception:  # noqa: BLE001 (made on first use instead)
        log.exception("Could not make the pictures of post %s", post.pk)


def post_deleted(sender, instance, using, **kwargs):
    pk, name = instance.pk, instance.image.name
    transaction.on_commit(lambda: forget(pk, name), using=using)


def forget(pk, image_name):
    try:
        remove_cards(pk)
        if image_name:
            extensions = {extension for extension, _ in images.FORMATS.values()}
            names = [derived(image_name, f"{w}w", ext) for w in WIDTHS for ext in extensions]
            for name in [*names, derived(image_name, "1200x630", "jpg")]:
                default_storage.delete(name)
    except Exception:  # noqa: BLE001
        log.exception("Could not remove the pictures of post %s", pk)


def remove_cards(pk, keep=None):
    """Delete the post's cards but `keep` (an old title's card is never shown again)."""
    for file in listed(f"cards/{pk}"):
        if f"cards/{pk}/{file}" != keep:
            default_storage.delete(f"cards/{pk}/{file}")


def listed(folder):
    try:
        return default_storage.listdir(folder)[1]
    except FileNotFoundError:
        return []
