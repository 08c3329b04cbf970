"""Media on S3-compatible object storage, against a real S3 API: moto's server, on a
port of its own. The storage settings come from the environment, as in production."""

import json
import os
import re
import subprocess
import sys
import uuid
from io import BytesIO
from pathlib import Path
from urllib.request import urlopen

import boto3
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer
from PIL import Image

from tests.factories import PostFactory
from tests.test_images import img_tags, photo
from tests.test_uploads import image_bytes, jpeg_with_exif, post_with_image, upload

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"AWS_ACCESS_KEY_ID": "dateline-test", "AWS_SECRET_ACCESS_KEY": "dateline-test-secret"}


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def storage_settings(**env):
    """STORAGES["default"] as config/settings.py makes it from this environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture
def bucket(s3_server, settings):
    """A new bucket, and media storage pointed at it by the environment's settings."""
    name = f"dateline-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", **lower(KEYS))
    client.create_bucket(Bucket=name)
    # Readers fetch media straight from the bucket, as production's bucket policy allows.
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read))
    storage = storage_settings(
        AWS_STORAGE_BUCKET_NAME=name,
        AWS_S3_ENDPOINT_URL=s3_server,
        AWS_S3_REGION_NAME="us-east-1",
        **KEYS,
    )
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    client.name = name
    client.url = f"{s3_server}/{name}/"
    client.keys = lambda: {item["Key"] for item in objects(client, name)}
    return client


def lower(keys):
    return {name.lower(): value for name, value in keys.items()}


def objects(client, name):
    return client.list_objects_v2(Bucket=name).get("Contents", [])


def fetched(url):
    """The object at a public URL, read as a reader's browser would (no signature)."""
    with urlopen(url, timeout=10) as response:
        return response.read()


def test_settings_point_media_at_the_bucket_from_the_environment():
    storage = storage_settings(
        AWS_STORAGE_BUCKET_NAME="news-media",
        AWS_S3_ENDPOINT_URL="https://s3.example.net",
        AWS_S3_REGION_NAME="eu-west-1",
        AWS_S3_CUSTOM_DOMAIN="media.news.example",
        **KEYS,
    )
    assert storage == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "news-media",
            "endpoint_url": "https://s3.example.net",
            "region_name": "eu-west-1",
            "access_key": "dateline-test",
            "secret_key": "dateline-test-secret",
            "custom_domain": "media.news.example",
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }
    local = storage_settings()
    assert local == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


@pytest.mark.django_db
def test_editor_upload_lands_in_the_bucket_cleaned_and_is_linked_by_its_bucket_url(
    staff_client, bucket, settings
):
    response = upload(staff_client, "IMG_0001.jpg", jpeg_with_exif(6), "image/jpeg")

    assert response.status_code == 200, response.content
    url = re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"])[1]
    [key] = bucket.keys()
    assert re.fullmatch(r"uploads/[0-9a-f]{32}\.jpg", key)
    assert url == bucket.url + key  # a plain URL: no signature to expire in a cached page
    stored = Image.open(BytesIO(fetched(url)))
    assert stored.format == "JPEG"
    assert not stored.getexif()  # re-encoded without the camera's metadata
    assert not any(path.is_file() for path in settings.MEDIA_ROOT.rglob("*"))


@pytest.mark.django_db
def test_same_name_twice_keeps_both_files(bucket):
    first = default_storage.save("posts/a.png", BytesIO(image_bytes("PNG")))
    second = default_storage.save("posts/a.png", BytesIO(image_bytes("PNG", color="blue")))

    assert first != second
    assert bucket.keys() == {first, second}


@pytest.mark.django_db(transaction=True)
def test_post_image_and_its_renditions_are_made_in_and_served_from_the_bucket(staff_client, bucket):
    post = PostFactory()
    file = SimpleUploadedFile("cover.jpg", photo((1000, 500)), "image/jpeg")
    response = post_with_image(staff_client, file, post)
    assert response.status_code == 302, response.context["adminform"].errors
    post.refresh_from_db()

    keys = bucket.keys()
    original = post.image.name
    assert original in keys
    stem = original.rsplit(".", 1)[0]
    # Read back from the bucket and scaled: one width below the original's, the share crop.
    assert {f"renditions/{stem}-480w.jpg", f"renditions/{stem}-800w.jpg"} <= keys
    assert f"renditions/{stem}-1200x630.jpg" in keys

    staff_client.logout()
    page = staff_client.get(post.get_absolute_url()).content.decode()
    [image] = img_tags(page)
    assert image["src"] == f"{bucket.url}renditions/{stem}-800w.jpg"
    srcset = [entry.split()[0] for entry in image["srcset"].split(", ")]
    assert all(url.startswith(bucket.url) for url in srcset)
    assert Image.open(BytesIO(fetched(image["src"]))).size == (800, 400)
