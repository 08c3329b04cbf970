import posixpath

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from markdownx.forms import ImageForm
from markdownx.settings import MARKDOWNX_IMAGE_MAX_SIZE, MARKDOWNX_MEDIA_PATH
from markdownx.views import ImageUploadView
from markdownx.widgets import AdminMarkdownxWidget
from reversion.admin import VersionAdmin
from reversion.models import Version
from taggit.models import Tag

from blog import preview
from blog.history import PostHistoryMixin
from blog.images import clean_upload
from blog.locking import LockedFormMixin, LockingAdminMixin
from blog.markdown import render_markdown
from blog.models import Category, Post, Quote, Source, Update
from blog.roles import (
    THREAD_CLOSED,
    THREAD_OPENED,
    UNPUBLISHED,
    PostRolesMixin,
    UpdateInlineRolesMixin,
    published_message,
)
from blog.security import could_be_key
from blog.trash import PostTrashMixin, QuotedSourceMixin, TrashFilter

# --- The editor's preview and image upload (django-markdownx, staff-only) -------------


def staff_only(view):
    """Like staff_member_required, but a 403 for the editor's background requests, and
    only for people who write posts (a staff user in no group writes nothing)."""

    def wrapped(request, *args, **kwargs):
        user = request.user
        writes = user.has_perm("blog.add_post") or user.has_perm("blog.change_post")
        if not (user.is_active and user.is_staff and writes):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@staff_only
@require_POST
def markdown_preview(request):
    if "content" not in request.POST:
        return HttpResponseBadRequest("No content to preview.")
    return HttpResponse(render_markdown(request.POST["content"]))


class EditorImageForm(ImageForm):
    """markdownx's form, storing a re-encoded copy named after the format found in it."""

    def clean(self):
        upload = self.cleaned_data.get("image")
        if upload is None:
            raise ValidationError("Choose an image to upload.")
        self.cleaned_image = clean_upload(upload, fit=MARKDOWNX_IMAGE_MAX_SIZE["size"])
        # markdownx's own checks (its allowed types, its size limit), on what we found.
        upload.content_type = self.cleaned_image.content_type
        return super().clean()

    def save(self, commit=True):
        """Store the image; the URL it is served at. (markdownx's view always commits.)"""
        name = posixpath.join(MARKDOWNX_MEDIA_PATH, self.cleaned_image.name)
        return default_storage.url(default_storage.save(name, self.cleaned_image))


class EditorImageUpload(ImageUploadView):
    """markdownx's upload view, answering in JSON whether or not the editor made the call."""

    form_class = EditorImageForm
    http_method_names = ["post"]

    def form_invalid(self, form):
        return JsonResponse(form.errors, status=400)

    def form_valid(self, form):
        return JsonResponse({"image_code": f"![]({form.save()})"})


markdown_upload = staff_only(EditorImageUpload.as_view())


# --- What a client can tamper with: a form error or a 4xx, never a 500 ---------------


class KnownKeysMixin:
    """Shows a form again with only the chosen values that could be keys: the admin's own
    autocomplete widget looks a tampered value up as it is, and the query fails."""

    def optgroups(self, name, value, attr=None):
        target = self.field.remote_field.model._meta
        key = target.get_field(getattr(self.field.remote_field, "field_name", target.pk.name))
        return super().optgroups(name, [v for v in value if could_be_key(key, v)], attr)


class KnownKeysSelect(KnownKeysMixin, AutocompleteSelect):
    pass


class KnownKeysSelectMultiple(KnownKeysMixin, AutocompleteSelectMultiple):
    pass


class KnownKeysField:
    """A choice of rows that refuses, as a form error, a value no key can be: looked up as
    sent, a number past the column's range is an OverflowError on SQLite."""

    def key_field(self):
        meta = self.queryset.model._meta
        return meta.get_field(self.to_field_name) if self.to_field_name else meta.pk

    def refuse_impossible(self, value):
        if value not in self.empty_values and not could_be_key(self.key_field(), value):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": str(value)[:100]},
            )

    def to_python(self, value):
        self.refuse_impossible(value)
        return super().to_python(value)

    def _check_values(self, value):
        for each in value if isinstance(value, list | tuple) else []:
            self.refuse_impossible(each)
        return super()._check_values(value)


def known_keys(form_field):
    """The same form field, refusing impossible keys (any ModelChoiceField subclass)."""
    if form_field is not None and not isinstance(form_field, KnownKeysField):
        kind = type(form_field)
        form_field.__class__ = type(f"KnownKeys{kind.__name__}", (KnownKeysField, kind), {})
    return form_field


class TamperProofChangeList(ChangeList):
    """Filters it cannot run go to Django's "?e=1" page, as the ones it knows to refuse do."""

    def get_filters(self, request):
        lookups = self.get_filters_params()
        if any("\x00" in value for values in lookups.values() for value in values):
            # No stored text holds a NUL, and PostgreSQL refuses to look for one.
            raise IncorrectLookupParameters("A filter holds a NUL character.")
        try:
            return super().get_filters(request)
        except OverflowError as error:  # ?published_at__year=99999999999999999999
            raise IncorrectLookupParameters(error) from error


def on_this_site(model_admin, obj):
    """The "View on site" link: the object's address on the site the editor is using.
    Django's goes through the contenttypes shortcut, which sends them to the Site row's
    domain (example.com)."""
    get_absolute_url = getattr(obj, "get_absolute_url", None)
    return get_absolute_url() if get_absolute_url else None


class BoundedInline:
    """An inline of a post's rows that builds forms for those rows and a few new ones. Django
    builds as many as the formset's TOTAL_FORMS asks, up to 2,000, and shows them all again
    with the error: a tampered count kept a worker busy for half a minute."""

    new_rows = 20
    view_on_site = on_this_site

    def get_formset(self, request, obj=None, **kwargs):
        limit = self.new_rows + (self.model.objects.filter(post=obj).count() if obj else 0)
        return super().get_formset(request, obj, max_num=limit, absolute_max=limit, **kwargs)


class TamperProofAdmin(admin.ModelAdmin):
    """A model admin that answers a tampered form, action or query with a form error or a
    4xx where Django's own gave a 500. Every model of ours is edited through one."""

    view_on_site = on_this_site

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            widget = KnownKeysSelect(db_field, self.admin_site, using=kwargs.get("using"))
            kwargs.setdefault("widget", widget)
        return known_keys(super().formfield_for_foreignkey(db_field, request, **kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            widget = KnownKeysSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
            kwargs.setdefault("widget", widget)
        return known_keys(super().formfield_for_manytomany(db_field, request, **kwargs))

    def get_changelist(self, request, **kwargs):
        return TamperProofChangeList

    def get_search_results(self, request, queryset, search_term):
        # The change list's search and the autocomplete's: as for filters, a NUL finds nothing.
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def response_action(self, request, queryset, *args, **kwargs):
        selected = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        if not all(could_be_key(self.model._meta.pk, pk) for pk in selected):
            # No browser sends these: Django answers a tampered `_to_field` the same way.
            raise SuspiciousOperation("An action was asked for on ids that cannot exist.")
        return super().response_action(request, queryset, *args, **kwargs)


def make_every_admin_tamper_proof(site=admin.site):
    """Other apps' admins (users, groups, tags, login attempts, tasks) get the same
    answers to tampering as ours: each is registered again as a TamperProofAdmin."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, TamperProofAdmin):
            continue
        kind = type(model_admin)
        safe = type(f"TamperProof{kind.__name__}", (TamperProofAdmin, kind), {})
        site.unregister(model)
        site.register(model, safe)


# --- Posts ---------------------------------------------------------------------------


class UpdateInlineForm(LockedFormMixin, forms.ModelForm):
    class Meta:
        model = Update
        fields = Update.FORM_FIELDS


class UpdateInline(UpdateInlineRolesMixin, BoundedInline, admin.StackedInline):
    model = Update
    form = UpdateInlineForm
    extra = 1
    fields = [*Update.FORM_FIELDS, "author"]
    readonly_fields = ["author"]
    ordering = ["-published_at", "-id"]
    verbose_name = "update"
    verbose_name_plural = "More as it develops… (newest first)"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "body":
            kwargs["widget"] = AdminMarkdownxWidget(attrs={"rows": 6})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class QuoteInline(BoundedInline, admin.TabularInline):
    model = Quote
    fk_name = "post"
    extra = 0
    can_delete = False
    fields = ["source_link", "excerpt", "where", "url"]
    readonly_fields = fields
    verbose_name_plural = "Quotes found in the body and updates (edit the text to change them)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source", "update")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="source")
    def source_link(self, quote):
        url = reverse("admin:blog_source_change", args=[quote.source_id])
        return format_html('<a href="{}">{}</a>', url, quote.source.name)

    @admin.display(description="quote")
    def excerpt(self, quote):
        return quote.text if len(quote.text) <= 160 else quote.text[:157] + "…"

    @admin.display(description="in")
    def where(self, quote):
        if quote.update_id:
            return f"update of {timezone.localtime(quote.update.published_at):%Y-%m-%d %H:%M}"
        return "body"


class PostAdminForm(LockedFormMixin, forms.ModelForm):
    class Meta:
        model = Post
        fields = Post.FORM_FIELDS
        widgets = {"body": AdminMarkdownxWidget(attrs={"rows": 24})}

    def clean_tags(self):
        # taggit's field takes a tag of any length; the column, on PostgreSQL, does not.
        tags = self.cleaned_data["tags"]
        limit = Tag._meta.get_field("name").max_length
        if any(len(tag) > limit for tag in tags):
            raise ValidationError(f"A tag can be at most {limit} characters long.")
        return tags


def rows_per_post(model):
    """A post's number of updates or quotes, as a subquery (two joins would multiply)."""
    rows = model.objects.filter(post=OuterRef("pk")).order_by().values("post")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


@admin.register(Post)
class PostAdmin(
    PostRolesMixin, PostHistoryMixin, LockingAdminMixin, PostTrashMixin, TamperProofAdmin
):
    form = PostAdminForm
    inlines = [UpdateInline, QuoteInline]
    list_display = [
        "title",
        "publication",
        "category",
        "published_at",
        "is_developing",
        "update_count",
        "quote_count",
    ]
    list_filter = [TrashFilter, "status", "is_developing", "category", "published_at", "author"]
    list_select_related = ["category"]
    search_fields = ["title", "excerpt", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["category"]
    readonly_fields = ["guid", "created_at", "modified_at", "developing_ended_at"]
    actions = [
        "publish",
        "unpublish",
        "open_thread",
        "close_thread",
        "delete_selected",
        "restore",
        "empty_trash",
    ]
    save_on_top = True
    fieldsets = [
        (None, {"fields": ["title", "slug", "category", "tags", "excerpt", "body"]}),
        ("Publishing", {"fields": ["status", "published_at", "author"]}),
        ("Developing story", {"fields": ["is_developing", "developing_ended_at"]}),
        ("Image", {"fields": ["image", "image_alt"], "classes": ["collapse"]}),
        ("Record", {"fields": ["guid", "created_at", "modified_at"], "classes": ["collapse"]}),
    ]

    class Media:
        css = {"all": ["css/editor.css"]}
        # Keeps what the editor types, in the browser and on the server (blog/autosave.py).
        js = ["js/autosave.js"]

    def get_urls(self):
        toggle = self.admin_site.admin_view(self.toggle_thread)
        preview_link = self.admin_site.admin_view(self.preview_link)
        return [
            path("<int:post_id>/thread/", toggle, name="blog_post_thread"),
            path("<int:post_id>/preview-link/", preview_link, name="blog_post_preview_link"),
            *super().get_urls(),
        ]

    def toggle_thread(self, request, post_id):
        """Open or close a post's thread in one click, from the admin or the public page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        post = get_object_or_404(Post, pk=post_id)
        if not self.has_thread_permission(request, post):
            raise PermissionDenied
        is_open = request.POST.get("open") == "1"
        if post.is_developing != is_open:
            self.log_change(request, post, THREAD_OPENED if is_open else THREAD_CLOSED)
        post.set_developing(is_open, by=request.user)
        state = "open: readers see new updates as they come" if is_open else "closed"
        self.message_user(request, f"The thread of “{post}” is {state}.", messages.SUCCESS)
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:blog_post_change", args=[post.pk])
        return redirect(next_url)

    def preview_link(self, request, post_id):
        """Make a preview link for a draft or scheduled post (shown in a message), or
        revoke every link made so far."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        post = get_object_or_404(Post, pk=post_id)
        if not self.has_change_permission(request, post):
            raise PermissionDenied
        if request.POST.get("revoke"):
            preview.revoke(post)
            self.log_change(request, post, "Preview links revoked")
            self.message_user(
                request, "Every preview link of this post has stopped working.", messages.SUCCESS
            )
        elif post.is_published or post.deleted_at:
            self.message_user(
                request, "Only a draft or a scheduled post has a preview link.", messages.ERROR
            )
        else:
            link, expires = preview.make_link(post)
            self.log_change(request, post, "Preview link created")
            self.message_user(
                request,
                format_html(
                    "Preview link, for anyone who has it, until {}: <code>{}</code>",
                    formats.date_format(timezone.localtime(expires), "DATETIME_FORMAT"),
                    request.build_absolute_uri(link),
                ),
                messages.SUCCESS,
            )
        return redirect("admin:blog_post_change", post.pk)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(update_count=rows_per_post(Update), quote_count=rows_per_post(Quote))
        )

    @admin.display(description="status", ordering="published_at")
    def publication(self, post):
        """Draft, Published, or "Scheduled for …" with the time it goes out by itself."""
        if post.deleted_at is not None:
            return "In the trash"
        if post.status != Post.Status.PUBLISHED:
            return "Draft"
        if post.published_at > timezone.now():
            when = formats.date_format(timezone.localtime(post.published_at), "DATETIME_FORMAT")
            return format_html('<span class="scheduled">Scheduled for {}</span>', when)
        return "Published"

    @admin.display(description="updates", ordering="update_count")
    def update_count(self, post):
        return post.update_count

    @admin.display(description="quotes", ordering="quote_count")
    def quote_count(self, post):
        return post.quote_count

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if "is_developing" in form.changed_data:
            obj.set_developing(obj.is_developing, save=False)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        updates = formset.save(commit=False)
        for update in updates:  # new and changed ones only
            if isinstance(update, Update):
                if not update.author_id:
                    update.author = request.user
                update.modified_by = request.user  # named if a stale copy is refused
            update.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()

    # These reach the user's own posts only (get_queryset) unless they edit anyone's.
    @admin.action(description="Publish selected posts", permissions=["publish"])
    def publish(self, request, queryset):
        posts = queryset.exclude(status=Post.Status.PUBLISHED)
        count = self.set_status(request, posts, "published")
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected posts (back to draft)", permissions=["publish"])
    def unpublish(self, request, queryset):
        count = self.set_status(request, queryset.filter(status=Post.Status.PUBLISHED), "draft")
        self.message_user(request, f"Moved {count} post(s) back to draft.", messages.SUCCESS)

    def set_status(self, request, posts, status):
        # Through save(): a first publication mints the feed id and pings the hub.
        with transaction.atomic():
            posts = list(posts)
            for post in posts:
                post.status = status
                post.save(update_fields=["status", *post.changed_by(request.user)])
                published = status == Post.Status.PUBLISHED
                message = published_message(post) if published else UNPUBLISHED
                self.log_change(request, post, message)
        return len(posts)

    @admin.action(description="Open the update thread", permissions=["publish"])
    def open_thread(self, request, queryset):
        count = self.set_threads(request, queryset.filter(is_developing=False), is_open=True)
        self.message_user(request, f"Opened the thread of {count} post(s).", messages.SUCCESS)

    @admin.action(description="Close the update thread", permissions=["publish"])
    def close_thread(self, request, queryset):
        count = self.set_threads(request, queryset.filter(is_developing=True), is_open=False)
        self.message_user(request, f"Closed the thread of {count} post(s).", messages.SUCCESS)

    def set_threads(self, request, posts, is_open):
        with transaction.atomic():
            posts = list(posts)
            for post in posts:
                post.set_developing(is_open, by=request.user)
                self.log_change(request, post, THREAD_OPENED if is_open else THREAD_CLOSED)
        return len(posts)


# --- Categories and sources ----------------------------------------------------------


class HistoryAdmin(VersionAdmin):
    """reversion's history pages (list, revert), answering an id no row can have with a
    404: looked up as sent, a NUL is a database error on PostgreSQL."""

    # No "recover deleted" pages: a quoted source is never deleted, and an unquoted
    # one or a section is quickly made again.
    change_list_template = None

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        revision = self.admin_site.admin_view(self.revision_view)
        return [
            path(
                "<path:object_id>/history/<int:version_id>/",
                revision,
                name="{}_{}_revision".format(*info),
            ),
            *super(VersionAdmin, self).get_urls(),
        ]

    def known_key(self, object_id):
        if not could_be_key(self.opts.pk, unquote(object_id)):
            raise Http404("No such item.")

    def history_view(self, request, object_id, extra_context=None):
        self.known_key(object_id)
        return super().history_view(request, object_id, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        self.known_key(object_id)
        if not could_be_key(Version._meta.pk, version_id):
            raise Http404("No such version.")
        return super().revision_view(request, object_id, version_id, extra_context)


@admin.register(Category)
class CategoryAdmin(HistoryAdmin, TamperProofAdmin):
    list_display = ["name", "slug", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Source.objects.none(),
        widget=forms.RadioSelect,
        label="Keep this source",
        help_text="The others' quotes move to it, and their names become its aliases.",
    )

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = sources


def merge_sources(target, duplicates):
    """Fold duplicates into target: quotes and people move, names become aliases."""
    with transaction.atomic():
        duplicates = [source for source in duplicates if source.pk != target.pk]
        post_ids = set(
            Quote.objects.filter(source__in=duplicates).values_list("post_id", flat=True)
        )
        for source in duplicates:
            target.add_aliases([source.name, *source.alias_list()])
            if not target.url and source.url:
                target.url = source.url
            if not target.description and source.description:
                target.description = source.description
        Quote.objects.filter(source__in=duplicates).update(source=target)
        Source.objects.filter(affiliation__in=duplicates).update(affiliation=target)
        Source.objects.filter(pk__in=[source.pk for source in duplicates]).delete()
        target.save()
        # Re-render so the quotes' captions link to the surviving source's page.
        for post in Post.objects.filter(pk__in=post_ids):
            post.rerender()
    return len(duplicates)


@admin.register(Source)
class SourceAdmin(QuotedSourceMixin, HistoryAdmin, TamperProofAdmin):
    list_display = ["name", "kind", "affiliation", "quote_count"]
    list_filter = ["kind"]
    list_select_related = ["affiliation"]
    search_fields = ["name", "aliases", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["affiliation"]
    fields = ["name", "slug", "kind", "affiliation", "aliases", "url", "description"]
    actions = ["merge", "delete_selected"]

    def get_queryset(self, request):
        # A GROUP BY drops Meta.ordering: the affiliation autocomplete pages through this.
        sources = super().get_queryset(request).annotate(quote_count=Count("quotes"))
        return sources.order_by(*Source._meta.ordering)

    def save_model(self, request, obj, form, change):
        if change and "name" in form.changed_data:
            # Bodies still say the old name: keep it pointing here.
            obj.add_aliases([form.initial["name"]])
        super().save_model(request, obj, form, change)
        if change and {"name", "slug"} & set(form.changed_data):
            # Quote captions carry the name and link to the source's page.
            for post in Post.objects.filter(quotes__source=obj).distinct():
                post.rerender()

    @admin.display(description="quotes", ordering="quote_count")
    def quote_count(self, source):
        return source.quote_count

    @admin.action(description="Merge selected sources into one…", permissions=["change"])
    def merge(self, request, queryset):
        sources = queryset.order_by("-quote_count", "name")
        if sources.count() < 2:
            self.message_user(request, "Select at least two sources to merge.", messages.WARNING)
            return None
        form = MergeForm(request.POST if "confirm" in request.POST else None, sources=sources)
        if form.is_valid():
            target = form.cleaned_data["target"]
            names = ", ".join(f"“{source}”" for source in sources if source.pk != target.pk)
            merged = merge_sources(target, list(sources))
            self.log_change(request, target, f"Merged {names} into this source")
            self.message_user(
                request, f"Merged {merged} source(s) into “{target}”.", messages.SUCCESS
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge sources",
            "opts": self.model._meta,
            "form": form,
            "sources": sources,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/blog/source/merge.html", context)
