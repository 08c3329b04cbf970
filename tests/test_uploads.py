import re
import struct
import zlib
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from blog.models import Post
from tests.admin_forms import form_data
from tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db

AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
# Pillow reads this header as EPS (writing one needs Ghostscript).
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n%%EndComments\nshowpage\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
NOT_AN_IMAGE = "Upload a JPEG, PNG, GIF or WebP image"
TOO_LARGE = "too large to process"
DAMAGED = "incomplete or damaged"


def image_bytes(fmt, size=(8, 8), mode="RGB", color="red", **options):
    data = BytesIO()
    Image.new(mode, size, color).save(data, fmt, **options)
    return data.getvalue()


def declaring(width, height):
    """A tiny PNG whose header claims width × height: a decompression bomb's shape."""
    data = bytearray(image_bytes("PNG", mode="1"))
    data[16:24] = struct.pack(">II", width, height)  # IHDR's first fields
    data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))  # IHDR's type and fields
    return bytes(data)


def truncated_png():
    data = BytesIO()
    Image.effect_noise((200, 200), 60).save(data, "PNG")
    return data.getvalue()[:5000]


REFUSED = {
    "svg": (SVG, "image/svg+xml", NOT_AN_IMAGE),
    "eps": (EPS, "image/jpeg", NOT_AN_IMAGE),
    "tiff": (image_bytes("TIFF"), "image/tiff", NOT_AN_IMAGE),
    "bmp": (image_bytes("BMP"), "image/bmp", NOT_AN_IMAGE),
    "ico": (image_bytes("ICO", size=(16, 16)), "image/x-icon", NOT_AN_IMAGE),
    "pdf": (image_bytes("PDF"), "application/pdf", NOT_AN_IMAGE),
    "html": (HTML, "image/png", NOT_AN_IMAGE),
    "text": (b"Just some notes.\n", "image/png", NOT_AN_IMAGE),
    "truncated": (truncated_png(), "image/png", DAMAGED),
    # Pillow's own bomb check refuses this one as it opens it ...
    "bomb": (declaring(30_000, 30_000), "image/png", TOO_LARGE),
    # ... and ours, from the header, everything past 40 megapixels or 10,000 a side.
    "too-many-pixels": (declaring(8_000, 6_000), "image/png", TOO_LARGE),
    "too-wide": (declaring(20_000, 50), "image/png", TOO_LARGE),
}


def test_the_refused_files_are_what_their_names_say():
    assert Image.open(BytesIO(EPS)).format == "EPS"
    for name in ("tiff", "bmp", "ico"):
        assert Image.open(BytesIO(REFUSED[name][0])).format == name.upper()
    assert Image.open(BytesIO(REFUSED["too-wide"][0])).size == (20_000, 50)
    with pytest.raises(OSError, match="truncated"):
        Image.open(BytesIO(truncated_png())).load()


def stored_files(settings):
    return sorted(path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file())


# --- The editor's upload (markdownx, staff-only) -------------------------------------


def upload(client, name, content, content_type, **headers):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post("/markdownx/upload/", {"image": file}, **{**AJAX, **headers})


def stored_upload(response, settings):
    """The file an accepted upload's Markdown points to."""
    assert response.status_code == 200, response.content
    url = re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"])[1]
    assert url.startswith(settings.MEDIA_URL)
    return settings.MEDIA_ROOT / url.removeprefix(settings.MEDIA_URL)


@pytest.mark.parametrize("fmt", EXTENSIONS)
def test_editor_stores_each_format_under_a_new_name(staff_client, settings, fmt):
    response = upload(staff_client, "Photo from Dana.img", image_bytes(fmt), "image/png")

    stored = stored_upload(response, settings)
    assert stored.parent == settings.MEDIA_ROOT / "uploads"
    assert re.fullmatch(rf"[0-9a-f]{{32}}\.{EXTENSIONS[fmt]}", stored.name)
    assert Image.open(stored).format == fmt


def test_gif_with_html_sent_as_html_is_stored_as_a_gif_without_the_html(staff_client, settings):
    response = upload(staff_client, "evil.html", image_bytes("GIF") + HTML, "text/html")

    stored = stored_upload(response, settings)
    assert re.fullmatch(r"[0-9a-f]{32}\.gif", stored.name)
    assert stored.parent == settings.MEDIA_ROOT / "uploads"
    assert b"<script" not in stored.read_bytes()
    assert Image.open(stored).format == "GIF"


def test_a_png_sent_as_a_jpeg_is_stored_as_a_png(staff_client, settings):
    response = upload(staff_client, "photo.jpg", image_bytes("PNG"), "image/jpeg")
    assert stored_upload(response, settings).suffix == ".png"


@pytest.mark.parametrize(("content", "content_type", "message"), REFUSED.values(), ids=REFUSED)
def test_editor_refuses_what_is_not_a_usable_image(
    staff_client, settings, content, content_type, message
):
    response = upload(staff_client, "photo.png", content, content_type)
    assert response.status_code == 400
    assert message in " ".join(response.json()["__all__"])
    assert stored_files(settings) == []


def test_editor_refuses_a_file_over_the_size_limit(staff_client, settings):
    settings.MARKDOWNX_UPLOAD_MAX_SIZE = 1000
    response = upload(staff_client, "photo.png", truncated_png(), "image/png")
    assert response.status_code == 400
    assert "Images can be at most" in response.json()["__all__"][0]
    assert stored_files(settings) == []


def test_editor_errors_are_json_even_outside_the_editor(staff_client, settings):
    response = staff_client.post(
        "/markdownx/upload/", {"image": SimpleUploadedFile("x.png", b"text")}
    )
    assert response.status_code == 400
    assert NOT_AN_IMAGE in response.json()["__all__"][0]
    assert staff_client.get("/markdownx/upload/").status_code == 405


def test_editor_upload_is_for_staff_only(client, django_user_model, settings):
    client.force_login(django_user_model.objects.create_user("reader"))
    assert upload(client, "a.png", image_bytes("PNG"), "image/png").status_code == 403
    assert stored_files(settings) == []


def jpeg_with_exif(orientation, size=(40, 20)):
    """A photo, red on the left half and blue on the right, from a phone at a place:
    its maker, its owner's name and serial number, and where it was taken."""
    width, height = size
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    camera = exif.get_ifd(0x8769)  # Exif IFD
    camera.update({0xA430: "Dana Reyes", 0xA431: "SN-4417-XK"})  # owner, body serial
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (40.0, 42.0, 46.0), 3: "W", 4: (74.0, 0.0, 21.0)})
    data = BytesIO()
    image.save(data, "JPEG", exif=exif, comment=b"<script>")
    return data.getvalue()


# What jpeg_with_exif hides in the file, byte for byte.
METADATA = [b"Exif", b"PhoneMaker", b"Dana Reyes", b"SN-4417-XK", b"<script"]


def test_the_photo_carries_the_metadata_it_should_lose():
    data = jpeg_with_exif(6)
    assert all(marker in data for marker in METADATA)
    exif = Image.open(BytesIO(data)).getexif()
    assert exif[0x0112] == 6 and exif.get_ifd(0x8825)[1] == "N"
    assert exif.get_ifd(0x8769) == {0xA430: "Dana Reyes", 0xA431: "SN-4417-XK"}


def test_editor_drops_exif_and_turns_the_photo_upright(staff_client, settings):
    response = upload(staff_client, "IMG_0001.jpg", jpeg_with_exif(6), "image/jpeg")

    stored = stored_upload(response, settings)
    data = stored.read_bytes()
    assert not [marker for marker in METADATA if marker in data]
    image = Image.open(stored)
    assert not image.getexif()
    # Orientation 6: the camera was turned; the left of the sensor is the top.
    assert image.size == (20, 40)
    red, green, blue = image.getpixel((10, 5))
    assert red > 200 and blue < 60


def test_editor_scales_large_stills_down_and_keeps_animations(staff_client, settings):
    large = upload(staff_client, "wide.png", image_bytes("PNG", size=(3200, 800)), "image/png")
    assert Image.open(stored_upload(large, settings)).size == (1600, 400)

    red, blue = Image.new("RGB", (2000, 50), "red"), Image.new("RGB", (2000, 50), "blue")
    data = BytesIO()
    red.save(data, "GIF", save_all=True, append_images=[blue], duration=[200, 500], loop=0)
    response = upload(staff_client, "anim.gif", data.getvalue(), "image/gif")

    animation = Image.open(stored_upload(response, settings))
    assert animation.size == (2000, 50) and animation.n_frames == 2
    assert animation.info["loop"] == 0
    durations = []
    for frame in range(2):
        animation.seek(frame)
        durations.append(animation.info["duration"])
    assert durations == [200, 500]


# --- Serving what was stored ---------------------------------------------------------


def test_stored_uploads_are_served_as_images_the_browser_must_not_sniff(
    staff_client, client, settings
):
    for name, content, content_type in [
        ("evil.html", image_bytes("GIF") + HTML, "image/gif"),
        ("photo.webp", image_bytes("WEBP"), "image/webp"),
    ]:
        response = upload(staff_client, name, content, "text/html")
        url = re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"])[1]

        served = client.get(url)
        assert served.status_code == 200
        assert served["Content-Type"] == content_type
        assert served["X-Content-Type-Options"] == "nosniff"
        assert b"<script" not in b"".join(served.streaming_content)


# --- A post's image, through the admin form and from scripts -------------------------


def post_with_image(client, file, post=None):
    url = f"/admin/blog/post/{post.pk}/change/" if post else "/admin/blog/post/add/"
    data = form_data(client.get(url))
    if post is None:
        data.update(
            title="Budget vote", slug="budget-vote", category=str(CategoryFactory().pk), body="Hi."
        )
    data["image"] = file
    return client.post(url, data)


@pytest.mark.parametrize("fmt", EXTENSIONS)
def test_post_image_is_stored_under_a_new_name(staff_client, settings, fmt):
    file = SimpleUploadedFile("cover.jpeg", image_bytes(fmt), "image/jpeg")
    response = post_with_image(staff_client, file)
    assert response.status_code == 302, response.context["adminform"].errors

    post = Post.objects.get()
    assert re.fullmatch(
        rf"posts/\d{{4}}/\d{{2}}/[0-9a-f]{{32}}\.{EXTENSIONS[fmt]}", post.image.name
    )
    assert Image.open(settings.MEDIA_ROOT / post.image.name).format == fmt


def test_post_image_is_stored_under_a_new_name_without_trailing_bytes(staff_client, settings):
    post = PostFactory()
    gif = SimpleUploadedFile("cover.gif", image_bytes("GIF") + HTML, "image/gif")
    response = post_with_image(staff_client, gif, post)
    assert response.status_code == 302, response.context["adminform"].errors

    post.refresh_from_db()
    assert re.fullmatch(r"posts/\d{4}/\d{2}/[0-9a-f]{32}\.gif", post.image.name)
    stored = (settings.MEDIA_ROOT / post.image.name).read_bytes()
    assert b"<script" not in stored


def test_eps_is_refused_as_a_post_image(staff_client, settings):
    response = post_with_image(staff_client, SimpleUploadedFile("chart.jpg", EPS, "image/jpeg"))
    assert response.status_code == 200
    assert NOT_AN_IMAGE in response.content.decode()
    assert not Post.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    "refused", ["svg", "tiff", "bmp", "ico", "html", "truncated", "bomb", "too-wide"]
)
def test_post_image_refusals_are_form_errors(staff_client, settings, refused):
    post = PostFactory()
    content, content_type, message = REFUSED[refused]
    response = post_with_image(staff_client, SimpleUploadedFile("a.png", content), post)
    assert response.status_code == 200
    assert message in response.content.decode()
    post.refresh_from_db()
    assert not post.image
    assert stored_files(settings) == []


def test_post_image_drops_exif(staff_client, settings):
    file = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_exif(6), "image/jpeg")
    assert post_with_image(staff_client, file).status_code == 302

    image = Image.open(settings.MEDIA_ROOT / Post.objects.get().image.name)
    assert not image.getexif() and image.size == (20, 40)


def test_a_script_saving_a_post_image_gets_the_same_cleaning(settings):
    post = PostFactory()
    post.image.save("cover.html", ContentFile(image_bytes("PNG") + HTML))
    post.refresh_from_db()
    assert re.fullmatch(r"posts/\d{4}/\d{2}/[0-9a-f]{32}\.png", post.image.name)
    assert b"<script" not in post.image.read()

    post.image = ContentFile(EPS, name="chart.jpg")
    with pytest.raises(ValidationError, match=NOT_AN_IMAGE):
        post.save()
    assert len(stored_files(settings)) == 1
