"""manage.py restore PATH [--force]: load a backup into an empty database and check it."""

from django.core.management.base import BaseCommand

from blog.backup import describe, pending_migrations, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an empty database, with its media "
        "files, and check that every post, update and quote arrived."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a dateline-backup-….tar.gz")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database that already has posts",
        )

    def handle(self, *args, path, force, **options):
        manifest, _ = restore_backup(path, force=force)
        self.stdout.write(
            self.style.SUCCESS(f"Restored {describe(manifest)} from {manifest['created_at']}.")
        )
        if pending_migrations():
            self.stdout.write(
                "The code is newer than the backup: run `manage.py migrate` before serving."
            )
