"""manage.py backup [--output DIR]: the database, media and a manifest in one .tar.gz."""

from django.core.management.base import BaseCommand

from blog.backup import create_backup, describe


class Command(BaseCommand):
    help = "Back up the database and media files into DIR/dateline-backup-<time>.tar.gz."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=".", help="folder for the archive (default: .)")

    def handle(self, *args, output, **options):
        archive, manifest = create_backup(output)
        self.stdout.write(self.style.SUCCESS(f"Backed up {describe(manifest)} to {archive}"))
