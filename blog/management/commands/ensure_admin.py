from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a local admin account for trying Dateline out (never in production)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")

    def handle(self, *args, username, password, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to create a default admin with PRODUCTION=1.")
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
            self.stdout.write(f"Created the admin account “{username}”.")
        self.stdout.write(
            f"Log in at http://127.0.0.1:8000/{settings.ADMIN_URL} as {username!r} "
            + (f"with password {password!r}." if created else "(password unchanged).")
        )
