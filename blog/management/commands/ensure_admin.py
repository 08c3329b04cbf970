from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from blog.roles import AUTHOR, CONTRIBUTOR, EDITOR

# One account per role (blog/roles.py), named after it, its password its name: local only.
ROLE_ACCOUNTS = [("contributor", CONTRIBUTOR), ("author", AUTHOR), ("editor", EDITOR)]


class Command(BaseCommand):
    help = (
        "Create local accounts for trying Dateline out: an admin, and one user per role "
        "(contributor, author, editor). Never in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")

    def handle(self, *args, username, password, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to create a default admin with PRODUCTION=1.")
        login = f"http://127.0.0.1:8000/{settings.ADMIN_URL}"
        self.stdout.write(f"Log in at {login} as:")
        self.account(username, password, "everything (a superuser)", is_superuser=True)
        for name, role in ROLE_ACCOUNTS:
            self.account(name, name, f"the {role} role", group=Group.objects.get(name=role))

    def account(self, username, password, what, group=None, is_superuser=False):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": is_superuser}
        )
        if created:
            user.set_password(password)
            user.save()
        if group is not None:
            user.groups.add(group)
        secret = f"password {password!r}" if created else "password unchanged"
        self.stdout.write(f"  {username!r} ({secret}): {what}")
