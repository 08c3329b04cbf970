"""The trash: deleting a post in the admin hides it (410 Gone) until it is restored or emptied."""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.db import transaction
from django.db.models import Count
from django.shortcuts import redirect

from blog.models import Quote

TRASHED = "Moved to the trash"
RESTORED = "Restored from the trash"
DELETED = "Deleted for good from the trash"


class TrashFilter(admin.SimpleListFilter):
    """The change list shows the posts not in the trash, or, chosen here, the trash."""

    title = "trash"
    parameter_name = "trash"

    def lookups(self, request, model_admin):
        return [("1", "Trash")]

    def choices(self, changelist):
        # No "All": a list mixing trashed posts with live ones invites mistakes.
        yield {
            "selected": self.value() != "1",
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Not in the trash",
        }
        yield {
            "selected": self.value() == "1",
            "query_string": changelist.get_query_string({self.parameter_name: "1"}),
            "display": "Trash",
        }

    def queryset(self, request, queryset):
        return queryset.filter(deleted_at__isnull=self.value() != "1")


class PostTrashMixin:
    """For the post admin: its delete view and "delete selected" move posts to the trash,
    which can be undone by anyone who may edit them; deleting for good is a separate
    action, for users with the delete permission only."""

    def has_delete_permission(self, request, obj=None):
        # What Django calls deleting is moving to the trash here: a reversible edit.
        if obj is not None and obj.deleted_at is not None:
            return False
        return self.has_change_permission(request, obj)

    def has_empty_trash_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('delete', opts)}")

    def get_deleted_objects(self, objs, request):
        # The confirmation page lists the posts alone: their rows are kept, no permission
        # on them is needed.
        return [str(obj) for obj in objs], {self.opts.verbose_name_plural: len(objs)}, set(), []

    def log_deletions(self, request, queryset):
        # Nothing is deleted: move_to_trash() logs the change instead.
        return None

    def delete_model(self, request, obj):
        self.move_to_trash(request, [obj])

    def delete_queryset(self, request, queryset):
        self.move_to_trash(request, queryset)

    def move_to_trash(self, request, posts):
        with transaction.atomic():
            posts = [post for post in posts if post.deleted_at is None]
            for post in posts:
                post.move_to_trash(by=request.user)
                self.log_change(request, post, TRASHED)
        return len(posts)

    def response_delete(self, request, obj_display, obj_id):
        if IS_POPUP_VAR in request.POST:
            return super().response_delete(request, obj_display, obj_id)
        self.message_user(
            request, "Moved to the trash; restore it from the trash.", messages.SUCCESS
        )
        return redirect("admin:blog_post_changelist")

    @admin.action(description="Move selected posts to the trash", permissions=["change"])
    def delete_selected(self, request, queryset):
        count = self.move_to_trash(request, queryset)
        self.message_user(
            request,
            f"Moved {count} post(s) to the trash; restore them from the trash.",
            messages.SUCCESS,
        )

    @admin.action(description="Restore from the trash", permissions=["change"])
    def restore(self, request, queryset):
        with transaction.atomic():
            posts = list(queryset.filter(deleted_at__isnull=False))
            for post in posts:
                post.restore(by=request.user)
                self.log_change(request, post, RESTORED)
        if posts:
            self.message_user(
                request, f"Restored {len(posts)} post(s) from the trash.", messages.SUCCESS
            )
        else:
            self.message_user(request, "None of these posts is in the trash.", messages.WARNING)

    @admin.action(
        description="Empty the trash: delete selected posts for good", permissions=["empty_trash"]
    )
    def empty_trash(self, request, queryset):
        # The action is offered only with the permission; a forged request is refused too.
        if not self.has_empty_trash_permission(request):
            self.message_user(
                request, "You may not delete posts for good: nothing was deleted.", messages.ERROR
            )
            return
        with transaction.atomic():
            posts = list(queryset.filter(deleted_at__isnull=False))
            if posts:
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=posts,
                    action_flag=DELETION,
                    change_message=DELETED,
                )
            for post in posts:
                post.delete()
        if posts:
            self.message_user(request, f"Deleted {len(posts)} post(s) for good.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                "Only posts in the trash can be deleted for good: move them there first.",
                messages.WARNING,
            )


class QuotedSourceMixin:
    """For the source admin: a quoted source is not deleted (its quotes would lose their
    attribution); merging it into another one is the way."""

    def refuse_quoted(self, request, sources):
        counts = (
            Quote.objects.filter(source__in=sources)
            .values("source__name")
            .annotate(n=Count("pk"))
            .order_by("source__name")
        )
        for row in counts:
            self.message_user(
                request,
                f"“{row['source__name']}” is quoted {row['n']} time(s), so it was not "
                "deleted. Merge it into another source instead (select both and choose "
                "“Merge selected sources into one…”): its quotes move there.",
                messages.ERROR,
            )
        return bool(counts)

    def delete_view(self, request, object_id, extra_context=None):
        source = self.get_object(request, unquote(object_id))
        if source is not None and self.refuse_quoted(request, [source]):
            return redirect("admin:blog_source_change", source.pk)
        return super().delete_view(request, object_id, extra_context)

    @admin.action(description="Delete selected sources", permissions=["delete"])
    def delete_selected(self, request, queryset):
        if self.refuse_quoted(request, queryset):
            return None
        return django_delete_selected(self, request, queryset)
