from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from blog.importers.wordpress import Importer
from blog.importers.wxr import WXRError, parse


class Command(BaseCommand):
    help = (
        "Import a WordPress export (Tools → Export, WXR 1.0–1.2): authors, categories, "
        "tags, posts with their quotes and update threads, pages, and media with "
        "--uploads. Safe to run again: what was imported before is not duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument("export", help="the .xml file WordPress exported")
        parser.add_argument(
            "--uploads",
            metavar="DIR",
            help="the old site's wp-content/uploads folder: the images posts show are "
            "copied from it (checked like any upload) and their addresses rewritten",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read and check everything, report what would happen, write nothing",
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="overwrite imported posts and pages that editors changed here since",
        )

    def handle(self, *args, export, uploads, dry_run, update, **options):
        try:
            parsed = parse(export)
        except WXRError as error:
            raise CommandError(str(error)) from error
        if uploads and not Path(uploads).is_dir():
            raise CommandError(f"--uploads {uploads}: no such folder")
        importer = Importer(
            parsed, uploads=uploads, update=update, dry_run=dry_run, progress=self.progress
        )
        summary = importer.run()
        self.stdout.write("")
        self.report(summary, dry_run, bool(uploads))
        if summary.errors:
            raise CommandError(
                f"{len(summary.errors)} item(s) could not be imported (listed above); "
                "everything else was."
            )

    def progress(self, done, total, width=30):
        filled = width * done // total if total else width
        bar = "#" * filled + "." * (width - filled)
        self.stdout.write(f"\rimporting {done:>5}/{total} [{bar}]", ending="")
        self.stdout.flush()

    def report(self, summary, dry_run, uploads):
        write = self.stdout.write
        if dry_run:
            write(self.style.WARNING("Dry run: nothing was written. This import would give:"))
        write(f"{'':14}{'created':>9}{'updated':>9}{'unchanged':>11}{'skipped':>9}")
        for kind, tally in summary.table():
            write(
                f"{kind:14}{tally.created:>9}{tally.updated:>9}"
                f"{tally.unchanged:>11}{tally.skipped:>9}"
            )
        reasons = [
            (kind, reason, count)
            for kind, tally in summary.table()
            for reason, count in sorted(tally.reasons.items())
        ]
        if reasons:
            write("\nSkipped, and why:")
            for kind, reason, count in reasons:
                write(f"  {kind}: {count} {reason}")
        if summary.notes:
            write("\nGood to know:")
            for note, count in sorted(summary.notes.items()):
                write(f"  {count} {note}")
        if summary.old_addresses:
            write(
                "\nStill at the old site's address" + ("" if uploads else " (use --uploads)") + ":"
            )
            for url in sorted(set(summary.old_addresses)):
                write(f"  {url}")
        if summary.errors:
            write(self.style.ERROR("\nNot imported:"))
            for error in summary.errors:
                write(f"  {error}")
