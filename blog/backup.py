"""Backups: one .tar.gz holding the database, the media files and a manifest to check them by.

PostgreSQL is dumped with pg_dump's custom format (restored with pg_restore, both from the
server's own major version); SQLite is copied with its online backup API, so the site can
keep running while either is taken.
"""

import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media.tar"
DUMPS = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}


def engine():
    if connection.vendor not in DUMPS:
        raise CommandError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")
    return connection.vendor


def counted_models():
    from blog.models import Post, Quote, Update

    return {"posts": Post, "updates": Update, "quotes": Quote}


def counts():
    return {name: model.objects.count() for name, model in counted_models().items()}


def migration_state():
    applied = MigrationRecorder(connection).applied_migrations()
    state = {}
    for app, name in sorted(applied):
        state.setdefault(app, []).append(name)
    return state


def media_on_disk():
    return isinstance(default_storage, FileSystemStorage)


# --- PostgreSQL -------------------------------------------------------------


def pg_binary(name):
    """pg_dump/pg_restore of the server's major version: other versions refuse or misread."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    path = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if not path.exists():
        raise CommandError(
            f"{path} not found: the server runs PostgreSQL {major}, so install its client "
            f"tools (apt-get install postgresql-client-{major})."
        )
    return str(path)


def pg_env():
    """Connection details for libpq, in the environment: never on a command line or in logs."""
    db = connection.settings_dict
    env = dict(os.environ)
    values = {
        "PGDATABASE": db["NAME"],
        "PGUSER": db.get("USER"),
        "PGPASSWORD": db.get("PASSWORD"),
        "PGHOST": db.get("HOST"),
        "PGPORT": str(db.get("PORT") or ""),
        "PGSSLMODE": db.get("OPTIONS", {}).get("sslmode"),
    }
    env.update({key: value for key, value in values.items() if value})
    return env


def run(command):
    result = subprocess.run(command, env=pg_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


def dump_postgresql(target):
    """Dump, and count what the dump holds: both read one snapshot of the database."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counted = counts()
        run_dump(target, snapshot)
    return counted


def run_dump(target, snapshot):
    run(
        [
            pg_binary("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            f"--snapshot={snapshot}",
        ]
    )


def restore_postgresql(source):
    # --clean drops what the dump is about to create, so a migrated but empty database
    # takes the backup as well as a brand new one; one transaction, so a failure leaves
    # the database as it was.
    run(
        [
            pg_binary("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={connection.settings_dict['NAME']}",
            str(source),
        ]
    )


# --- SQLite -----------------------------------------------------------------


def dump_sqlite(target):
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        # Counted in the copy itself, so the counts are exactly what the backup holds.
        return {
            name: copy.execute(f'SELECT count(*) FROM "{model._meta.db_table}"').fetchone()[0]
            for name, model in counted_models().items()
        }
    finally:
        copy.close()


def restore_sqlite(source):
    connection.ensure_connection()
    try:
        source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        source_db.execute("SELECT count(*) FROM sqlite_master")
    except sqlite3.DatabaseError as error:
        raise CommandError(f"{DUMPS['sqlite']} in the backup is not a database: {error}") from None
    try:
        source_db.backup(connection.connection)
    finally:
        source_db.close()


# --- Backup -----------------------------------------------------------------


def create_backup(output_dir):
    """Write dateline-backup-<UTC time>.tar.gz into output_dir; return it and its manifest."""
    vendor = engine()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if connection.in_atomic_block:
        raise CommandError("A backup cannot be taken inside a transaction.")
    try:
        counts()
    except DatabaseError:
        raise CommandError(
            "This database has no Dateline tables to back up (run manage.py migrate)."
        ) from None
    created = timezone.now()
    archive = output_dir / f"dateline-backup-{created:%Y%m%dT%H%M%SZ}.tar.gz"
    manifest = {
        "format": FORMAT,
        "engine": vendor,
        "created_at": created.isoformat(),
        "migrations": migration_state(),
    }
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        dump = work / DUMPS[vendor]
        dumped = (dump_postgresql if vendor == "postgresql" else dump_sqlite)(dump)
        manifest["counts"] = dumped
        members = [dump]
        if media_on_disk():
            media_root = Path(settings.MEDIA_ROOT)
            with tarfile.open(work / MEDIA, "w") as media:
                if media_root.is_dir():
                    for path in sorted(media_root.iterdir()):
                        media.add(path, arcname=path.name)
                manifest["media"] = {"included": True, "files": count_files(media)}
            members.append(work / MEDIA)
        else:
            manifest["media"] = {
                "included": False,
                "note": "Media lives in the object storage bucket and is not in this backup.",
            }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        members.append(work / MANIFEST)
        # Written under a temporary name, so a half-written archive never looks complete.
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for path in members:
                tar.add(path, arcname=path.name)
        partial.replace(archive)
    return archive, manifest


def count_files(tar):
    return sum(1 for member in tar.getmembers() if member.isfile())


# --- Restore ----------------------------------------------------------------


def has_posts():
    from blog.models import Post

    try:
        return Post.objects.exists()
    except DatabaseError:
        return False  # no tables yet: a brand new database


def read_archive(path, work):
    """Unpack a backup into work and return its manifest, or say plainly what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"No backup at {path}.")
    try:
        with tarfile.open(path, "r:*") as tar:
            names = set(tar.getnames())
            if MANIFEST not in names:
                raise CommandError(f"{path} is not a Dateline backup: it has no {MANIFEST}.")
            # The "data" filter refuses absolute paths, links out of the folder and devices.
            tar.extractall(work, filter="data")
    except tarfile.ReadError:
        raise CommandError(f"{path} is not a backup archive (a .tar.gz).") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise CommandError(f"{path} is not a readable backup archive: {error}") from None
    try:
        manifest = json.loads((work / MANIFEST).read_text())
        vendor, expected = manifest["engine"], manifest["counts"]
    except (ValueError, KeyError, TypeError) as error:
        raise CommandError(f"The manifest in {path} is damaged: {error}") from None
    if vendor not in DUMPS or not (work / DUMPS[vendor]).is_file():
        raise CommandError(f"{path} has no database dump for its engine ({vendor}).")
    if not isinstance(expected, dict):
        raise CommandError(f"The manifest in {path} has no counts.")
    return manifest


def restore_backup(path, force=False):
    """Load a backup into this database and MEDIA_ROOT; return (manifest, counts found)."""
    vendor = engine()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        manifest = read_archive(path, work)
        if manifest["engine"] != vendor:
            raise CommandError(
                f"This backup is of a {manifest['engine']} database; the configured database "
                f"is {vendor}. Restore it into a {manifest['engine']} database."
            )
        if has_posts() and not force:
            raise CommandError(
                "The database already has posts. Restore into an empty database, or pass "
                "--force to replace its contents with the backup."
            )
        connection.close()
        (restore_postgresql if vendor == "postgresql" else restore_sqlite)(work / DUMPS[vendor])
        connection.close()
        if (work / MEDIA).is_file():
            restore_media(work / MEDIA)
    found = counts()
    if found != manifest["counts"]:
        raise CommandError(
            f"The restored database does not match the backup: expected {manifest['counts']}, "
            f"found {found}."
        )
    # Pages cached before the restore show content that may no longer exist.
    from blog.caching import content_changed

    content_changed(shared=True)
    return manifest, found


def restore_media(media_tar):
    if not media_on_disk():
        raise CommandError("Media storage is not on disk here; copy media.tar's files by hand.")
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(media_tar, "r") as tar:
        tar.extractall(media_root, filter="data")


def pending_migrations():
    """Migrations the code has that the restored database lacks (an older backup)."""
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def describe(manifest):
    counted = manifest["counts"]
    text = f"{counted['posts']} posts, {counted['updates']} updates, {counted['quotes']} quotes"
    media = manifest.get("media", {})
    if media.get("included"):
        return f"{text}, {media.get('files', 0)} media files"
    return f"{text} ({media['note']})" if media.get("note") else text
