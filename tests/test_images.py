"""What pages show of a post's image: renditions, the social crop, the share card."""

import logging
import re
from io import BytesIO

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from PIL import Image, ImageChops

from blog import images, renditions
from blog.caching import current_version
from blog.models import Category, Post
from tests.factories import CategoryFactory, PostFactory
from tests.test_uploads import METADATA, declaring, jpeg_with_exif, post_with_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what waits for the transaction to commit (pictures are made then)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def photo(size, fmt="JPEG"):
    """A picture with detail in it (a gradient), in the given format."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    data = BytesIO()
    image.save(data, fmt)
    return data.getvalue()


def media(settings):
    """Every file in media storage, by name."""
    root = settings.MEDIA_ROOT
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def opened(settings, name):
    return Image.open(settings.MEDIA_ROOT / name)


def with_image(committed, data, name="photo.jpg", **fields):
    post = PostFactory(**fields)
    with committed():
        post.image.save(name, ContentFile(data))
    return post


def img_tags(html):
    return [
        dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag)) for tag in re.findall(r"<img\s[^>]*>", html)
    ]


def stem(post):
    return post.image.name.rsplit(".", 1)[0]


# --- Uploads: nothing of where or by whom ---------------------------------------------


def test_no_file_made_from_an_upload_keeps_its_metadata_and_all_are_upright(
    staff_client, settings, committed
):
    upload = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_exif(6, size=(1000, 500)), "image/jpeg")
    with committed():
        assert post_with_image(staff_client, upload).status_code == 302

    post = Post.objects.get()
    made = media(settings)
    assert made == {
        post.image.name,
        f"renditions/{stem(post)}-480w.jpg",
        f"renditions/{stem(post)}-1200x630.jpg",
    }
    for name in made:
        data = (settings.MEDIA_ROOT / name).read_bytes()
        assert not [marker for marker in METADATA if marker in data], name
        image = Image.open(BytesIO(data))
        assert not image.getexif() and "exif" not in image.info, name
    # Orientation 6: the phone was turned; the left of its sensor (red) is the top.
    original = opened(settings, post.image.name)
    assert original.size == (500, 1000)
    rendition = opened(settings, f"renditions/{stem(post)}-480w.jpg")
    assert rendition.size == (480, 960)
    for image in (original, rendition):
        top, bottom = (
            image.getpixel((image.width // 2, 5)),
            image.getpixel((image.width // 2, image.height - 5)),
        )
        assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (photo((400, 300))[:900], images.DAMAGED),
        (b"\xff\xd8\xff\xe0 a JPEG's first bytes, then none of its image", images.DAMAGED),
        # A decompression bomb: a few hundred bytes whose header claims 400 megapixels.
        (declaring(20_000, 20_000), images.TOO_MANY_PIXELS),
    ],
    ids=["truncated", "corrupt", "bomb"],
)
def test_a_corrupt_image_or_a_bomb_is_a_form_error_and_nothing_is_written(
    staff_client, settings, committed, content, message
):
    with committed():
        response = post_with_image(staff_client, SimpleUploadedFile("photo.png", content))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["image"]
    assert errors == [message]
    assert message.split(":")[0] in response.content.decode()
    assert not Post.objects.exists()
    assert media(settings) == set()


# --- Renditions ----------------------------------------------------------------------


def test_renditions_are_made_at_each_width_the_image_exceeds(settings, committed):
    post = with_image(committed, photo((2000, 1000)))
    found = {
        name: opened(settings, name)
        for name in media(settings)
        if name.startswith("renditions/") and name.endswith("w.jpg")
    }
    assert {name: image.size for name, image in found.items()} == {
        f"renditions/{stem(post)}-480w.jpg": (480, 240),
        f"renditions/{stem(post)}-800w.jpg": (800, 400),
        f"renditions/{stem(post)}-1200w.jpg": (1200, 600),
        f"renditions/{stem(post)}-1600w.jpg": (1600, 800),
    }
    assert {image.format for image in found.values()} == {"JPEG"}


def test_renditions_keep_the_format_and_are_never_scaled_up(settings, committed):
    post = with_image(committed, photo((600, 400), "PNG"), "chart.png")
    made = media(settings) - {post.image.name}
    assert made == {f"renditions/{stem(post)}-480w.png", f"renditions/{stem(post)}-1200x630.jpg"}
    assert opened(settings, f"renditions/{stem(post)}-480w.png").size == (480, 320)
    [image] = img_tags(renditions_html(post))
    assert image["srcset"] == (
        f"/media/renditions/{stem(post)}-480w.png 480w, /media/{post.image.name} 600w"
    )
    assert (image["width"], image["height"]) == ("600", "400")


def renditions_html(post, placement="page"):
    from django.template import Context, Template

    template = Template("{% load renditions %}{% lead_image post placement %}")
    return template.render(Context({"post": post, "placement": placement}))


def test_the_post_page_offers_every_width_with_its_size_and_loads_the_image_first(
    client, committed
):
    post = with_image(committed, photo((2400, 1200)), image_alt="The council chamber")
    response = client.get(post.get_absolute_url())
    [image] = img_tags(response.content.decode())

    base = f"/media/renditions/{stem(post)}"
    assert image["srcset"] == (
        f"{base}-480w.jpg 480w, {base}-800w.jpg 800w, {base}-1200w.jpg 1200w, "
        f"{base}-1600w.jpg 1600w"
    )  # not the 2400-pixel original: no screen in the column needs it
    assert image["src"] == f"{base}-800w.jpg"
    assert (image["width"], image["height"]) == ("800", "400")
    assert image["sizes"] == "(min-width: 42.5rem) 40rem, calc(100vw - 2.5rem)"
    assert image["alt"] == "The council chamber"
    assert image["fetchpriority"] == "high" and "loading" not in image
    for url in [image["src"], *(c.split()[0] for c in image["srcset"].split(", "))]:
        assert client.get(url).status_code == 200, url


def test_lists_show_a_thumbnail_loaded_when_scrolled_near(client, committed):
    post = with_image(committed, photo((1600, 900)))
    PostFactory(title="No picture here")
    html = client.get("/").content.decode()
    [image] = img_tags(html)
    assert image["loading"] == "lazy" and "fetchpriority" not in image
    assert image["sizes"] == "(min-width: 30rem) 9rem, 6rem"
    assert image["srcset"].startswith(f"/media/renditions/{stem(post)}-480w.jpg 480w, ")
    assert (image["width"], image["height"]) == ("800", "450")


def test_an_animation_is_shown_as_it_is_and_shared_as_its_first_frame(settings, committed):
    frames = [Image.new("RGB", (1000, 500), colour) for colour in ("red", "blue")]
    data = BytesIO()
    frames[0].save(data, "GIF", save_all=True, append_images=frames[1:], duration=200)
    post = with_image(committed, data.getvalue(), "spinner.gif")

    assert media(settings) == {post.image.name, f"renditions/{stem(post)}-1200x630.jpg"}
    [image] = img_tags(renditions_html(post))
    assert image["src"] == f"/media/{post.image.name}"
    assert image["srcset"] == f"/media/{post.image.name} 1000w"
    social = opened(settings, f"renditions/{stem(post)}-1200x630.jpg")
    red, green, blue = social.getpixel((600, 315))
    assert red > 200 and blue < 60


def test_missing_renditions_are_made_on_first_request(client, settings):
    post = PostFactory()
    post.image.save("photo.jpg", ContentFile(photo((1000, 500))))  # never committed
    assert media(settings) == {post.image.name}

    [image] = img_tags(client.get(post.get_absolute_url()).content.decode())
    assert image["src"] == f"/media/renditions/{stem(post)}-800w.jpg"
    assert f"renditions/{stem(post)}-800w.jpg" in media(settings)

    # A file that went missing later (a storage restored from backup) is made again.
    (settings.MEDIA_ROOT / f"renditions/{stem(post)}-480w.jpg").unlink()
    cache.clear()
    client.get(post.get_absolute_url())
    assert opened(settings, f"renditions/{stem(post)}-480w.jpg").size == (480, 240)


def test_a_failure_to_make_pictures_never_fails_the_save(
    client, settings, committed, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(images, "resized", broken)
    monkeypatch.setattr(images, "share_card", broken)
    with caplog.at_level(logging.ERROR, logger="blog.renditions"):
        post = with_image(committed, photo((1000, 500)))
        plain = PostFactory(title="No picture")
        with committed():
            plain.save()
    assert "Could not make the renditions" in caplog.text
    assert "Could not draw the share card" in caplog.text
    assert Post.objects.filter(pk=post.pk).exists()

    # The page shows the original; a share falls back on the site's picture.
    [image] = img_tags(client.get(post.get_absolute_url()).content.decode())
    assert image["src"] == f"/media/{post.image.name}" and "srcset" not in image
    assert renditions.social_image(plain) is None


# --- What a share shows --------------------------------------------------------------


def test_a_post_with_an_image_is_shared_as_its_1200x630_crop(settings, committed):
    settings.ALLOWED_HOSTS = ["news.example"]
    post = with_image(committed, photo((900, 1600)))
    request = RequestFactory().get("/", HTTP_HOST="news.example")
    social = renditions.social_image(post, request)
    assert social == {
        "url": f"http://news.example/media/renditions/{stem(post)}-1200x630.jpg",
        "width": 1200,
        "height": 630,
        "type": "image/jpeg",
    }
    image = opened(settings, f"renditions/{stem(post)}-1200x630.jpg")
    assert (image.format, image.size) == ("JPEG", (1200, 630))
    assert renditions.social_image_url(post) == f"/media/renditions/{stem(post)}-1200x630.jpg"


def test_a_post_without_an_image_gets_a_1200x630_png_share_card(settings, committed):
    with committed():
        post = PostFactory(title="Council split, vote delayed")
    [card] = media(settings)
    assert re.fullmatch(rf"cards/{post.pk}/[0-9a-f]{{20}}\.png", card)
    image = opened(settings, card)
    assert (image.format, image.size) == ("PNG", (1200, 630))
    assert renditions.social_image(post) == {
        "url": f"/media/{card}",
        "width": 1200,
        "height": 630,
        "type": "image/png",
    }


def card_pixels(settings, post):
    [card] = [name for name in media(settings) if name.startswith(f"cards/{post.pk}/")]
    return card, opened(settings, card).convert("RGB")


def test_the_share_card_is_drawn_again_when_the_title_changes(settings, committed):
    with committed():
        post = PostFactory(title="Council split, vote delayed")
    old_name, old = card_pixels(settings, post)

    post.title = "Council agrees budget at last"
    with committed():
        post.save()
    new_name, new = card_pixels(settings, post)  # the old card is gone
    assert new_name != old_name
    assert ImageChops.difference(old, new).getbbox() is not None

    # A save that changes nothing a card shows draws nothing.
    written = (settings.MEDIA_ROOT / new_name).stat().st_mtime_ns
    with committed():
        post.save(update_fields=["is_developing"])
        post.save()
    assert card_pixels(settings, post)[0] == new_name
    assert (settings.MEDIA_ROOT / new_name).stat().st_mtime_ns == written


def test_the_share_card_shows_the_section_and_the_site_name(settings, committed):
    with committed():
        post = PostFactory(title="Same title", category=CategoryFactory(name="Politics"))
    politics = card_pixels(settings, post)

    # A renamed section: its cards are drawn anew on first use.
    Category.objects.filter(pk=post.category_id).update(name="World")
    post = Post.objects.select_related("category").get(pk=post.pk)
    world = renditions.social_image(post)["url"].removeprefix("/media/")
    assert world != politics[0]
    assert ImageChops.difference(politics[1], opened(settings, world).convert("RGB")).getbbox()

    settings.DATELINE = {**settings.DATELINE, "SITE_NAME": "The Evening Ledger"}
    renamed = renditions.social_image(post)["url"].removeprefix("/media/")
    assert renamed not in {world, politics[0]}


def test_a_title_too_long_for_the_card_still_makes_a_card():
    long_title = "Budget " * 40 + "W" * 300
    data = images.share_card(long_title, "A section with a very long name " * 5, "Dateline")
    image = Image.open(BytesIO(data))
    assert (image.format, image.size) == ("PNG", (1200, 630))


def test_a_deleted_post_takes_its_pictures_with_it(settings, committed):
    post = with_image(committed, photo((1000, 500)))
    with committed():
        plain = PostFactory()
    original = post.image.name
    assert len(media(settings)) == 5  # original, two renditions, social, a card
    with committed():
        post.delete()
        plain.delete()
    assert media(settings) == {original}  # the upload itself, as Django leaves files


# --- Pages stay cheap ------------------------------------------------------------------


def test_images_add_no_query_to_pages(client, settings, committed, django_assert_max_num_queries):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 0}
    posts = [with_image(committed, photo((1000, 500))) for _ in range(3)]
    for url in ["/", posts[0].get_absolute_url()]:
        cache.clear()
        current_version()
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200
