"""No silent overwrite: a form opened at an older version of a post or update is refused.

Each form carries, hidden, the version of the row it was opened at. When it is saved,
the row's current version is read under a row lock (the admin's change view runs in a
transaction); if someone saved since, the form is refused with their name and time, and
the editor's text stays in the form. The refused form then carries the current version,
so saving it once more, on purpose, replaces the other person's version.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.urls import path
from django.utils import timezone

from blog import autosave


class VersionField(forms.CharField):
    """The version a form was opened at. Never a change of its own: a form that only
    differs from the row by its version would change nothing if saved."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=20, **kwargs)

    def has_changed(self, initial, data):
        return False


def editor_name(user):
    if user is None:
        return "someone"
    return user.get_full_name() or user.get_username()


def local_time(when):
    """ "14:32" today, "2026-03-04 14:32" another day, in the site's time zone."""
    when = timezone.localtime(when)
    if when.date() == timezone.localdate():
        return f"{when:%H:%M}"
    return f"{when:%Y-%m-%d %H:%M}"


class LockedFormMixin:
    """For the post form and the update inline's form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        opened_at = self.instance.version if self.instance.pk else None
        self.fields["version"] = VersionField(initial=opened_at)

    def clean(self):
        cleaned_data = super().clean()
        submitted = self.data.get(self.add_prefix("version"), "")
        if submitted == "" or self.instance.pk is None:
            # A new row, or a client that sends no version (a script): nothing to compare.
            return cleaned_data
        try:
            opened_at = int(submitted)
            if not 0 < opened_at < 2**31:
                raise ValueError
        except (TypeError, ValueError):
            self.add_error(
                None, "This form's version number is not valid: reload the page and try again."
            )
            return cleaned_data
        if not self.has_changed():
            # Saving it would change nothing that was changed since.
            return cleaned_data
        current = self.current_row()
        if current is not None and current["version"] != opened_at:
            self.refuse(current, opened_at)
        return cleaned_data

    def current_row(self):
        model = type(self.instance)
        rows = model._base_manager.filter(pk=self.instance.pk)
        using = router.db_for_write(model)
        if connections[using].in_atomic_block:
            # Two saves at once wait for each other here (PostgreSQL; SQLite has one writer).
            rows = rows.select_for_update()
        return rows.values("version", "modified_at", "modified_by").first()

    def refuse(self, current, opened_at):
        user_model = type(self.instance)._meta.get_field("modified_by").related_model
        who = user_model._default_manager.filter(pk=current["modified_by"]).first()
        self.add_error(
            None,
            ValidationError(
                "%(who)s changed %(what)s at %(when)s, after you opened it (version "
                "%(current)s; yours was %(yours)s). Your text is still below — nothing was "
                "saved. Save again to replace their version with yours, or open it in a new "
                "tab to compare.",
                code="stale",
                params={
                    "who": editor_name(who),
                    "what": self.locked_name(),
                    "when": local_time(current["modified_at"]),
                    "current": current["version"],
                    "yours": opened_at,
                },
            ),
        )
        # The form shown again carries the version just read: saving it again, on
        # purpose, goes through (unless someone saves yet again meanwhile).
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(current["version"])

    def locked_name(self):
        """How the refusal names the row: "this post", "the update of 14:05"."""
        published_at = getattr(self.instance, "published_at", None)
        if self.instance._meta.model_name == "update" and published_at:
            return f"the update of {local_time(published_at)}"
        return f"this {self.instance._meta.verbose_name}"


class LockingAdminMixin:
    """For the post admin: records who saved, and serves the editor's autosave."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = autosave.endpoint(self)
        return [
            path("<str:post_id>/autosave/", view, name="{}_{}_autosave".format(*info)),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        obj.modified_by = request.user
        super().save_model(request, obj, form, change)
        # Saved: the copy kept while they typed is not needed any more.
        autosave.discard(request.user, obj if change else None)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["autosave"] = autosave.page_data(self, request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
