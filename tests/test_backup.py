"""manage.py backup / restore: a backup restored into an empty database is the same site."""

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from blog.models import Post, Quote, Update
from tests.factories import TWO_QUOTES, PostFactory, UpdateFactory, quoted

ROOT = Path(__file__).resolve().parent.parent


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "navy").save(buffer, "PNG")
    return buffer.getvalue()


PHOTO = png()


def snapshot():
    """Everything a reader or a feed reader would notice went missing, comparable as JSON."""
    return {
        "posts": sorted(
            [
                post.guid,
                post.slug,
                post.title,
                post.status,
                post.image.name,
                sorted(post.tags.names()),
            ]
            for post in Post.objects.all()
        ),
        "updates": sorted(
            [update.guid, update.post.guid, update.kind, update.body]
            for update in Update.objects.select_related("post")
        ),
        "quotes": sorted(
            [
                quote.post.guid,
                quote.update.guid if quote.update else "",
                quote.source.name,
                quote.text,
                quote.url,
            ]
            for quote in Quote.objects.select_related("post", "update", "source")
        ),
    }


@pytest.fixture
def site(transactional_db):
    """Two published stories with quotes, tags, updates and a picture, committed."""
    photo = default_storage.save("posts/2026/03/council.png", ContentFile(PHOTO))
    story = PostFactory(body=TWO_QUOTES, tags=["budget", "council"], image=photo)
    PostFactory(body="Quiet day.", tags=["budget"])
    UpdateFactory(post=story, body=quoted("We will vote Thursday.", "— Mayor Lee, The Tribune"))
    UpdateFactory(post=story, body="Correction: Thursday, not Friday.", kind="correction")
    return story


@pytest.fixture
def empty_database(tmp_path):
    """DATABASE_URL of a new, empty database on the same engine, dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    db = connection.settings_dict
    name = f"dateline_restore_{uuid.uuid4().hex[:12]}"
    server = {
        "host": db["HOST"] or "localhost",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    # Through the maintenance database, so the drop happens whatever became of the test one.
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    user, password = quote(server["user"], safe=""), quote(server["password"] or "", safe="")
    try:
        yield f"postgres://{user}:{password}@{server['host']}:{server['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*args, database_url, media_root, tmp_path):
    """Run manage.py in another process, on another database and media folder."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        "CACHE_DIR": str(tmp_path / "cache"),
        "REDIS_URL": "",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def back_up(tmp_path):
    call_command("backup", output=str(tmp_path / "backups"), stdout=io.StringIO())
    [archive] = (tmp_path / "backups").glob("dateline-backup-*.tar.gz")
    return archive


def test_backup_holds_the_database_the_media_and_a_manifest(site, tmp_path):
    archive = back_up(tmp_path)
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
        with tarfile.open(fileobj=tar.extractfile("media.tar")) as media:
            assert media.extractfile("posts/2026/03/council.png").read() == PHOTO
    dump = "database.dump" if connection.vendor == "postgresql" else "database.sqlite3"
    assert names == {dump, "media.tar", "manifest.json"}
    assert manifest["engine"] == connection.vendor
    assert manifest["counts"] == {"posts": 2, "updates": 2, "quotes": 3}
    assert "0001_initial" in manifest["migrations"]["blog"]
    assert manifest["created_at"]


def test_restore_into_an_empty_database_finds_every_post_update_quote_and_feed_id(
    site, tmp_path, empty_database
):
    before = snapshot()
    assert all(post[0] for post in before["posts"]), "published posts have feed ids"
    assert all(update[0] for update in before["updates"])
    archive = back_up(tmp_path)
    media_root = tmp_path / "restored-media"
    run = {"database_url": empty_database, "media_root": media_root, "tmp_path": tmp_path}

    restored = manage("restore", str(archive), **run)
    assert restored.returncode == 0, restored.stderr
    assert "Restored 2 posts, 2 updates, 3 quotes" in restored.stdout

    shell = manage(
        "shell",
        "-c",
        "import json; from tests.test_backup import snapshot; "
        "print('SNAPSHOT', json.dumps(snapshot()))",
        **run,
    )
    assert shell.returncode == 0, shell.stderr
    [line] = [line for line in shell.stdout.splitlines() if line.startswith("SNAPSHOT ")]
    assert json.loads(line.removeprefix("SNAPSHOT ")) == json.loads(json.dumps(before))
    assert (media_root / "posts/2026/03/council.png").read_bytes() == PHOTO

    # Now it has posts: a second restore is refused, unless forced.
    again = manage("restore", str(archive), **run)
    assert again.returncode != 0
    assert "already has posts" in again.stderr
    assert "Traceback" not in again.stderr
    forced = manage("restore", str(archive), "--force", **run)
    assert forced.returncode == 0, forced.stderr


def test_restore_refuses_a_database_that_has_posts(site, tmp_path):
    archive = back_up(tmp_path)
    Post.objects.filter(pk=site.pk).update(title="Edited after the backup")
    with pytest.raises(CommandError, match="already has posts.*--force"):
        call_command("restore", str(archive))
    assert Post.objects.get(pk=site.pk).title == "Edited after the backup"


def test_restore_says_plainly_when_there_is_no_backup(db, tmp_path):
    with pytest.raises(CommandError, match="No backup at"):
        call_command("restore", str(tmp_path / "missing.tar.gz"))


def test_restore_says_plainly_when_the_file_is_not_an_archive(db, tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not an archive")
    with pytest.raises(CommandError, match="not a backup archive"):
        call_command("restore", str(junk))


def test_restore_says_plainly_when_the_archive_is_cut_short(site, tmp_path):
    archive = back_up(tmp_path)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CommandError, match="not a readable backup archive"):
        call_command("restore", str(cut))


def test_restore_says_plainly_when_the_archive_has_no_manifest(db, tmp_path):
    stray = tmp_path / "stray.tar.gz"
    (tmp_path / "notes.txt").write_text("hello")
    with tarfile.open(stray, "w:gz") as tar:
        tar.add(tmp_path / "notes.txt", arcname="notes.txt")
    with pytest.raises(CommandError, match="not a Dateline backup"):
        call_command("restore", str(stray))


def test_a_broken_archive_is_an_error_message_not_a_traceback(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b garbage")
    result = manage(
        "restore",
        str(junk),
        database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        media_root=tmp_path / "media",
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "CommandError" in result.stderr
    assert "Traceback" not in result.stderr


def test_backup_of_media_in_object_storage_says_it_is_left_out(site, tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    archive = back_up(tmp_path)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert "media.tar" not in tar.getnames()
    assert manifest["media"]["included"] is False
    assert "bucket" in manifest["media"]["note"]
