import re
from io import BytesIO

import pytest
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


def image_bytes(fmt, size=(8, 8), mode="RGB", **options):
    data = BytesIO()
    Image.new(mode, size, "red").save(data, fmt, **options)
    return data.getvalue()


def stored_files(settings):
    return sorted(path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file())


# --- The editor's upload (markdownx, staff-only) -------------------------------------


def upload(client, name, content, content_type):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post("/markdownx/upload/", {"image": file}, **AJAX)


def stored_upload(response, settings):
    """The file an accepted upload's Markdown points to."""
    assert response.status_code == 200, response.content
    url = re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"])[1]
    assert url.startswith(settings.MEDIA_URL)
    return settings.MEDIA_ROOT / url.removeprefix(settings.MEDIA_URL)


def test_gif_with_html_sent_as_html_is_stored_as_a_gif_without_the_html(staff_client, settings):
    response = upload(staff_client, "evil.html", image_bytes("GIF") + HTML, "text/html")

    stored = stored_upload(response, settings)
    assert re.fullmatch(r"[0-9a-f]{32}\.gif", stored.name)
    assert stored.parent == settings.MEDIA_ROOT / "uploads"
    assert b"<script" not in stored.read_bytes()
    assert Image.open(stored).format == "GIF"


# --- A post's image, through the admin form ------------------------------------------


def post_with_image(client, file, post=None):
    url = f"/admin/blog/post/{post.pk}/change/" if post else "/admin/blog/post/add/"
    data = form_data(client.get(url))
    if post is None:
        data.update(
            title="Budget vote", slug="budget-vote", category=str(CategoryFactory().pk), body="Hi."
        )
    data["image"] = file
    return client.post(url, data)


def test_eps_is_refused_as_a_post_image(staff_client, settings):
    assert Image.open(BytesIO(EPS)).format == "EPS"
    response = post_with_image(staff_client, SimpleUploadedFile("chart.jpg", EPS, "image/jpeg"))
    assert response.status_code == 200
    assert "Upload a JPEG, PNG, GIF or WebP image" in response.content.decode()
    assert not Post.objects.exists()
    assert stored_files(settings) == []


def test_post_image_is_stored_under_a_new_name_without_trailing_bytes(staff_client, settings):
    post = PostFactory()
    gif = SimpleUploadedFile("cover.gif", image_bytes("GIF") + HTML, "image/gif")
    response = post_with_image(staff_client, gif, post)
    assert response.status_code == 302, response.context["adminform"].errors

    post.refresh_from_db()
    assert re.fullmatch(r"posts/\d{4}/\d{2}/[0-9a-f]{32}\.gif", post.image.name)
    stored = (settings.MEDIA_ROOT / post.image.name).read_bytes()
    assert b"<script" not in stored
