import time

from django.core.management.base import BaseCommand

from blog import search


class Command(BaseCommand):
    help = (
        "Index every post for search afresh. Saving a post, an update or a source keeps the "
        "index current; run this after writes that skip save() (bulk loads, raw SQL)."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        count = search.rebuild(progress=self.progress)
        self.stdout.write("")
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Indexed {count:,} posts in {elapsed:.1f} s."))

    def progress(self, done, total, width=30):
        filled = width * done // total if total else width
        bar = "#" * filled + "." * (width - filled)
        self.stdout.write(f"\rindexed {done:>9,}/{total:,} [{bar}]", ending="")
        self.stdout.flush()
