"""Roles: what a Contributor, an Author and an Editor may do, enforced by the admin.

The roles are Django groups made by migration 0012 (which holds the frozen lists):

| permission                                   | Contributor | Author | Editor |
|----------------------------------------------|-------------|--------|--------|
| blog: view, add, change post                 | yes         | yes    | yes    |
| blog: publish_post (publish, schedule,       | –           | yes    | yes    |
| unpublish, open and close threads)           |             |        |        |
| blog: add, change, delete, view update       | –           | yes    | yes    |
| blog: edit_others_posts                      | –           | –      | yes    |
| blog: delete post (empty the trash)          | –           | –      | yes    |
| blog: view category, source, quote           | yes         | yes    | yes    |
| blog: add, change, delete category, source   | –           | –      | yes    |
| taggit: view tag                             | yes         | yes    | yes    |
| taggit: add, change, delete tag              | –           | –      | yes    |
| flatpages: every permission                  | –           | –      | yes    |
| admin: view log entries                      | –           | –      | yes    |

Model permissions alone would let anyone who may change a post change every post, so
the post admin adds two rules: without edit_others_posts a user reaches only their own
posts (someone else's is a 403), and without publish_post only drafts can be changed
(a published or scheduled post stays readable) and Draft is the only status offered.
"""

import json

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import formats, timezone

from blog.models import Post, published_q
from blog.security import could_be_key

CONTRIBUTOR, AUTHOR, EDITOR = "Contributor", "Author", "Editor"

# What the admin's log says (the actions, the thread button and the change form).
UNPUBLISHED = "Unpublished (back to draft)"
THREAD_OPENED = "Opened the update thread"
THREAD_CLOSED = "Closed the update thread"


def published_message(post):
    """ "Published", naming the time when that is still to come (a scheduled post)."""
    if post.published_at and post.published_at > timezone.now():
        when = formats.date_format(timezone.localtime(post.published_at), "DATETIME_FORMAT")
        return f"Published, scheduled for {when}"
    return "Published"


def may_publish(user):
    return user.has_perm("blog.publish_post")


def may_reach(user, post):
    """Whether the post is the user's own, or they may edit anyone's."""
    return post.author_id == user.pk or user.has_perm("blog.edit_others_posts")


def may_change(user, post):
    """Someone who may not publish edits drafts only: a post that is out, or scheduled to
    be, is no longer theirs to change."""
    return (
        user.has_perm("blog.change_post")
        and may_reach(user, post)
        and (post.status == Post.Status.DRAFT or may_publish(user))
    )


def may_add_update(user, post):
    """Updates go live at once: only for people who may publish, on posts they reach."""
    return user.is_active and user.has_perm("blog.add_update") and may_reach(user, post)


def may_toggle_thread(user, post):
    return user.is_active and may_publish(user) and may_change(user, post)


def previewable_posts(user):
    """The posts a user sees on the public site: the published ones, and for staff who may
    view posts, the drafts and scheduled posts they may reach as well."""
    if not (user.is_active and user.is_staff and user.has_perm("blog.view_post")):
        return Post.objects.published()
    if user.has_perm("blog.edit_others_posts"):
        return Post.objects.all()
    return Post.objects.filter(published_q() | Q(author=user))


def changeable(user, posts):
    """The posts of a queryset that the user may change (see may_change)."""
    if not user.has_perm("blog.edit_others_posts"):
        posts = posts.filter(author=user)
    if not may_publish(user):
        posts = posts.filter(status=Post.Status.DRAFT)
    return posts


class PostRolesMixin:
    """For the post admin: only reachable posts are listed or opened, only drafts are
    changed without the publish permission, and publishing is logged by name."""

    def get_queryset(self, request):
        posts = super().get_queryset(request)
        if request.user.has_perm("blog.edit_others_posts"):
            return posts
        return posts.filter(author=request.user)

    def get_object(self, request, object_id, from_field=None):
        post = super().get_object(request, object_id, from_field)
        if post is None and not request.user.has_perm("blog.edit_others_posts"):
            # Someone else's post: a 403 rather than Django's "perhaps it was deleted?".
            field = self.opts.pk if from_field is None else self.opts.get_field(from_field)
            if could_be_key(field, object_id) and (
                self.model._default_manager.filter(**{field.name: object_id}).exists()
            ):
                raise PermissionDenied
        return post

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if request.user.has_perm("blog.edit_others_posts"):
            return filters
        # Their own posts only: a filter by author would just list every account.
        return [each for each in filters if each != "author"]

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or may_reach(request.user, obj))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change(request.user, obj))

    def has_publish_permission(self, request):
        return may_publish(request.user)

    def has_thread_permission(self, request, post):
        return may_toggle_thread(request.user, post)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status" and not may_publish(request.user):
            # "published" sent anyway is a form error: "Select a valid choice."
            kwargs["choices"] = [(Post.Status.DRAFT, Post.Status.DRAFT.label)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("blog.edit_others_posts"):
            fields.append("author")
        return fields

    def save_model(self, request, obj, form, change):
        if not change and "author" not in form.fields:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The thread button is shown only to those it works for.
        context["may_toggle_thread"] = obj is not None and self.has_thread_permission(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def construct_change_message(self, request, form, formsets, add=False):
        """Django's message, led by what a reader notices: publication and the thread."""
        message = super().construct_change_message(request, form, formsets, add)
        post, changed = form.instance, form.changed_data
        events = []
        if "status" in changed or (add and post.status == Post.Status.PUBLISHED):
            published = post.status == Post.Status.PUBLISHED
            events.append(published_message(post) if published else UNPUBLISHED)
        if "is_developing" in changed:
            events.append(THREAD_OPENED if post.is_developing else THREAD_CLOSED)
        if not events:
            return message
        # A plain string is kept as written; the rest is Django's own wording.
        stored = message if isinstance(message, str) else json.dumps(message)
        details = LogEntry(change_message=stored).get_change_message()
        return " ".join([f"{event}." for event in events] + ([details] if details else []))

    def move_to_trash(self, request, posts):
        # "Delete selected" is checked against the model permission only.
        return super().move_to_trash(
            request, [post for post in posts if self.has_change_permission(request, post)]
        )

    @admin.action(description="Restore from the trash", permissions=["change"])
    def restore(self, request, queryset):
        # A post an editor trashed after it went out is not a contributor's to bring back.
        return super().restore(request, changeable(request.user, queryset))


class UpdateInlineRolesMixin:
    """For the post admin's update inline: besides the update permissions (a Contributor
    has none, so sees no inline and any update data they send is ignored), the post
    must be one the user may reach."""

    def reaches(self, request, post):
        return post is None or may_reach(request.user, post)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.reaches(request, obj)

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and self.reaches(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.reaches(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.reaches(request, obj)
