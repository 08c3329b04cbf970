"""History: every save of a post, update, source or section is a revision (django-reversion).

A revision is made by every POST to the site (reversion's middleware: the admin, its
actions, the live page's quick-add) and by the WordPress import. A post's revision holds
the post, every update of its thread and its tags as they were once the request was done,
so one revision is one moment of the whole story. Restoring goes through `Post.save()` and
`Update.save()`, so quotes, the search index and cached pages follow; feed ids are kept.
"""

import difflib

import reversion
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from reversion.models import Version
from taggit.models import Tag, TaggedItem

from blog.models import Category, Post, Source, Update

# What a revision keeps of a post: what editors edit and the thread's state. Derived
# columns (rendered HTML, search vector) are made again on restore; the lock's version
# and the preview key belong to the post's present, not to its past.
POST_EXCLUDED = [
    "tags",
    "body_html",
    "search_vector",
    "search_refresh_at",
    "preview_key",
    "version",
    "modified_by",
]
# What a restore puts back: what the admin's forms edit, and the thread's closing time.
# A post's id, guid, trash state and creation stay; an update comes back with its guid.
POST_RESTORED = [
    Post._meta.get_field(name).attname for name in Post.FORM_FIELDS if name != "tags"
] + ["developing_ended_at"]
UPDATE_RESTORED = [*Update.FORM_FIELDS, "author_id", "guid"]
# The post's own words, compared line by line; the rest compared as values.
COMPARED_TEXT = [("title", "Title"), ("excerpt", "Excerpt"), ("body", "Body (Markdown)")]
COMPARED_VALUES = [
    ("slug", "Slug"),
    ("status", "Status"),
    ("published_at", "Publication"),
    ("category_id", "Section"),
    ("author_id", "Author"),
    ("is_developing", "Thread open"),
    ("image", "Image"),
    ("image_alt", "Image description"),
]


def tag_links(post):
    """The post's TaggedItem rows, for reversion to follow (taggit gives no reverse
    relation a serializer can store)."""
    return TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(Post), object_id=post.pk
    )


def register():
    """Called once at start-up (blog/apps.py)."""
    Post.tag_links = property(tag_links)
    # The source and section admins are reversion's VersionAdmin, which registers its
    # model as it is built, as we would.
    for model in (Category, Source):
        if not reversion.is_registered(model):
            reversion.register(model)
    reversion.register(Tag)
    reversion.register(TaggedItem, follow=["tag"])
    # An update saved alone (the quick-add) still makes a revision of its whole story.
    reversion.register(Update, exclude=["body_html", "version", "modified_by"], follow=["post"])
    reversion.register(Post, exclude=POST_EXCLUDED, follow=["updates", "tag_links"])


# --- Reading a revision --------------------------------------------------------------


class Snapshot:
    """One post as a revision kept it: its fields, its thread and its tags."""

    def __init__(self, version):
        self.version = version
        self.revision = version.revision
        self.post_id = int(version.object_id)
        self.fields = version.field_dict
        versions = list(self.revision.version_set.select_related("content_type"))
        by_model = {}
        for each in versions:
            by_model.setdefault(each.content_type.model_class(), []).append(each)
        self.updates = sorted(
            (
                (int(each.object_id), each.field_dict)
                for each in by_model.get(Update, [])
                if each.field_dict["post_id"] == self.post_id
            ),
            key=lambda pair: (pair[1]["published_at"], pair[0]),
        )
        tag_names = {int(each.object_id): each.field_dict["name"] for each in by_model.get(Tag, [])}
        post_type = ContentType.objects.get_for_model(Post).pk
        tag_ids = [
            each.field_dict["tag_id"]
            for each in by_model.get(TaggedItem, [])
            if each.field_dict["content_type_id"] == post_type
            and int(each.field_dict["object_id"]) == self.post_id
        ]
        missing = [pk for pk in tag_ids if pk not in tag_names]
        tag_names.update(Tag.objects.filter(pk__in=missing).values_list("pk", "name"))
        self.tags = sorted(tag_names[pk] for pk in tag_ids if pk in tag_names)

    @property
    def when(self):
        return self.revision.date_created

    @property
    def title(self):
        return self.fields.get("title")

    def get(self, name):
        return self.fields.get(name)


def post_versions(post_id):
    """The post's versions, newest first, with who made them."""
    return (
        Version.objects.get_for_object_reference(Post, post_id)
        .select_related("revision", "revision__user")
        .order_by("-revision__date_created", "-pk")
    )


# --- Restoring -----------------------------------------------------------------------


@transaction.atomic
def restore(post, snapshot, by=None):
    """Put the post back as the snapshot has it: its text, state, tags and whole thread.

    Updates added since are removed; updates deleted since come back with their ids and
    feed ids, so a feed reader does not see them as new. Refused (ValidationError) when
    the old address is now another post's.
    """
    slug = snapshot.get("slug")
    if Post.objects.filter(slug=slug).exclude(pk=post.pk).exists():
        raise ValidationError(
            f"Another post now has the address “{slug}”: change its slug first, "
            "then restore this version."
        )
    for name in POST_RESTORED:
        setattr(post, name, snapshot.get(name))
    if not Category.objects.filter(pk=post.category_id).exists():
        raise ValidationError("The section this version was filed under no longer exists.")
    if by is not None:
        post.modified_by = by
    post.save()
    post.tags.set(snapshot.tags)
    kept = {pk for pk, _ in snapshot.updates}
    for update in post.updates.exclude(pk__in=kept):
        update.delete()
    current = {update.pk: update for update in post.updates.all()}
    for pk, fields in snapshot.updates:
        update = current.get(pk) or Update(pk=pk, post=post)
        for name in UPDATE_RESTORED:
            setattr(update, name, fields.get(name))
        update.save()
    return post


# --- Comparing -----------------------------------------------------------------------


def line_diff(old, new):
    """A readable diff of two texts: rows of (kind, old line number, new number, text),
    with long unchanged stretches folded to three lines of context."""
    old_lines, new_lines = (old or "").splitlines(), (new or "").splitlines()
    rows = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(3):
        if rows:
            rows.append(("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    ("same", i + 1, j + 1, old_lines[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            rows.extend(("removed", i + 1, None, old_lines[i]) for i in range(i1, i2))
            rows.extend(("added", None, j + 1, new_lines[j]) for j in range(j1, j2))
    return rows


def shown(name, value):
    """A stored value as an editor reads it."""
    if value is None or value == "":
        return "—"
    if name == "published_at":
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if name == "category_id":
        category = Category.objects.filter(pk=value).first()
        return category.name if category else f"(deleted section {value})"
    if name == "author_id":
        user = get_user_model().objects.filter(pk=value).first()
        return (user.get_full_name() or user.get_username()) if user else f"(user {value})"
    if name == "is_developing":
        return "yes" if value else "no"
    if name == "status":
        return dict(Post.Status.choices).get(value, value)
    return str(value)


def compare(old, new):
    """What changed between two snapshots of one post, for the compare page."""
    texts = [
        {"label": label, "rows": line_diff(old.get(name), new.get(name))}
        for name, label in COMPARED_TEXT
        if (old.get(name) or "") != (new.get(name) or "")
    ]
    values = [
        {"label": label, "old": shown(name, old.get(name)), "new": shown(name, new.get(name))}
        for name, label in COMPARED_VALUES
        if old.get(name) != new.get(name)
    ]
    if old.tags != new.tags:
        values.append(
            {
                "label": "Tags",
                "old": ", ".join(old.tags) or "—",
                "new": ", ".join(new.tags) or "—",
            }
        )
    old_updates, new_updates = dict(old.updates), dict(new.updates)
    updates = []
    for pk in sorted(old_updates.keys() | new_updates.keys()):
        before, after = old_updates.get(pk), new_updates.get(pk)
        when = (after or before)["published_at"]
        label = f"{(after or before)['kind'].capitalize()} of {shown('published_at', when)}"
        if before is None:
            rows = line_diff("", after["body"])
            updates.append({"label": label, "change": "added", "rows": rows})
        elif after is None:
            updates.append(
                {"label": label, "change": "removed", "rows": line_diff(before["body"], "")}
            )
        elif any(before.get(n) != after.get(n) for n in ("kind", "published_at", "body")):
            rows = line_diff(before["body"], after["body"])
            updates.append({"label": label, "change": "changed", "rows": rows})
    return {"texts": texts, "values": values, "updates": updates}


# --- The admin -----------------------------------------------------------------------


def who(revision):
    user = revision.user
    if user is None:
        return "someone (a script or import)"
    return user.get_full_name() or user.get_username()


class PostHistoryMixin:
    """For the post admin: the history page lists revisions with who made them, any two
    can be compared, and any one restored, thread and tags included."""

    object_history_template = "admin/blog/post/object_history.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:post_id>/history/compare/",
                view(self.compare_view),
                name="blog_post_compare",
            ),
            path(
                "<int:post_id>/history/<int:version_id>/",
                view(self.revision_view),
                name="blog_post_revision",
            ),
            *super().get_urls(),
        ]

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(entry.get_change_message())
        return entry

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(entry.get_change_message())
        return entry

    def history_post(self, request, post_id):
        """The post, if this user may see its history (404 when there is none)."""
        post = self.get_object(request, str(post_id))
        if post is None:
            raise Http404("No such post.")
        if not self.has_view_or_change_permission(request, post):
            raise PermissionDenied
        return post

    def history_view(self, request, object_id, extra_context=None):
        post = self.get_object(request, object_id)
        if post is None or not self.has_view_or_change_permission(request, post):
            return super().history_view(request, object_id, extra_context)
        versions = list(post_versions(post.pk)[:200])
        context = {
            "versions": [
                {"version": version, "who": who(version.revision), "latest": index == 0}
                for index, version in enumerate(versions)
            ],
            "compare_url": reverse("admin:blog_post_compare", args=[post.pk]),
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, context)

    def compare_view(self, request, post_id):
        post = self.history_post(request, post_id)
        versions = post_versions(post.pk)
        try:
            old_id, new_id = int(request.GET["a"]), int(request.GET["b"])
        except (KeyError, ValueError, OverflowError):
            latest = list(versions[:2])
            if len(latest) < 2:
                # Nothing to compare yet: the page says so.
                return self.compare_page(request, post, None, None)
            old_id, new_id = latest[1].pk, latest[0].pk
        old = get_object_or_404(versions, pk=old_id)
        new = get_object_or_404(versions, pk=new_id)
        if (old.revision.date_created, old.pk) > (new.revision.date_created, new.pk):
            old, new = new, old
        return self.compare_page(request, post, old, new)

    def compare_page(self, request, post, old, new):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": post,
            "title": f"Compare versions of “{post}”",
            "history_url": reverse("admin:blog_post_history", args=[post.pk]),
        }
        if old is not None:
            older, newer = Snapshot(old), Snapshot(new)
            context.update(
                old={"snapshot": older, "who": who(old.revision)},
                new={"snapshot": newer, "who": who(new.revision)},
                changes=compare(older, newer),
            )
        return TemplateResponse(request, "admin/blog/post/compare.html", context)

    def revision_view(self, request, post_id, version_id):
        """One version: what it held, how it differs from now, and a button to restore it."""
        post = self.history_post(request, post_id)
        version = get_object_or_404(post_versions(post.pk), pk=version_id)
        snapshot = Snapshot(version)
        may_restore = self.has_change_permission(request, post)
        if request.method == "POST":
            if not may_restore:
                raise PermissionDenied
            when = formats.date_format(timezone.localtime(snapshot.when), "DATETIME_FORMAT")
            try:
                restore(post, snapshot, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                return redirect("admin:blog_post_revision", post.pk, version.pk)
            self.log_change(request, post, f"Restored the version of {when}")
            self.message_user(
                request,
                f"Restored the version of {when}, with its update thread and tags. "
                "The version it replaced is kept in the history.",
                messages.SUCCESS,
            )
            return redirect("admin:blog_post_change", post.pk)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "POST"])
        latest = post_versions(post.pk).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": post,
            "title": f"Version of “{snapshot.title}”",
            "snapshot": snapshot,
            "who": who(version.revision),
            "is_latest": latest is not None and latest.pk == version.pk,
            "changes": compare(snapshot, Snapshot(latest)) if latest else None,
            "may_restore": may_restore,
            "history_url": reverse("admin:blog_post_history", args=[post.pk]),
        }
        return TemplateResponse(request, "admin/blog/post/revision.html", context)
