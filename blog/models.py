from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.db.models.functions import Lower
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from taggit.managers import TaggableManager

from blog.caching import content_changed, remember
from blog.images import CleanImageField
from blog.markdown import MarkdownValidator, clean_text, render
from blog.websub import notify_hub

OUTLET_WORDS = {
    "agency",
    "associated",
    "bbc",
    "bulletin",
    "cnn",
    "chronicle",
    "courier",
    "daily",
    "dispatch",
    "examiner",
    "gazette",
    "guardian",
    "herald",
    "journal",
    "ledger",
    "magazine",
    "media",
    "network",
    "news",
    "npr",
    "observer",
    "post",
    "press",
    "radio",
    "reuters",
    "review",
    "sentinel",
    "star",
    "telegraph",
    "times",
    "tribune",
    "tv",
    "wire",
}


def unique_slug(model, text, max_length=200):
    base = slugify(text)[: max_length - 8] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def tag_uri(kind, pk, when):
    """A feed id that never changes: RFC 4151, minted once at first publication."""
    authority = settings.DATELINE["TAG_AUTHORITY"]
    return f"tag:{authority},{timezone.localdate(when):%Y-%m-%d}:{kind}/{pk}"


class ContentQuerySet(models.QuerySet):
    """Bulk writes that skip save() and delete() still make cached pages stale."""

    def update(self, **kwargs):
        # auto_now does not reach update(): cached fragments are keyed by modified_at.
        if self.model.has_modified_at() and "modified_at" not in kwargs:
            kwargs["modified_at"] = timezone.now()
        rows = super().update(**kwargs)
        content_changed(self.db, self.model.shared_content)
        return rows

    def delete(self):
        deleted = super().delete()
        content_changed(self.db, self.model.shared_content)
        return deleted

    def bulk_create(self, *args, **kwargs):
        created = super().bulk_create(*args, **kwargs)
        content_changed(self.db, self.model.shared_content)
        return created

    def bulk_update(self, objs, fields, **kwargs):
        if self.model.has_modified_at() and "modified_at" not in fields:
            objs, now = list(objs), timezone.now()
            for obj in objs:
                obj.modified_at = now
            fields = [*fields, "modified_at"]
        rows = super().bulk_update(objs, fields, **kwargs)
        content_changed(self.db, self.model.shared_content)
        return rows


class ContentModel(models.Model):
    """Anything readers see: saving or deleting it makes cached pages stale."""

    objects = ContentQuerySet.as_manager()
    # Shown inside many other items (a section's name in every post of it): a change
    # renews the fragments that are otherwise keyed by their own rows.
    shared_content = False

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            content_changed(kwargs.get("using"), self.shared_content)

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            deleted = super().delete(*args, **kwargs)
            content_changed(kwargs.get("using"), self.shared_content)
            return deleted

    @classmethod
    def has_modified_at(cls):
        return any(field.name == "modified_at" for field in cls._meta.concrete_fields)


class EditedModel(ContentModel):
    """Content editors change in forms, at the same time as each other: a version number
    for optimistic locking (blog/locking.py), and who saved last (named when a stale form
    is refused)."""

    # What the admin's form edits: a save touching any of these is a new version.
    EDITED_FIELDS = frozenset()

    version = models.PositiveIntegerField(default=1, editable=False)
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True

    def count_version(self, kwargs):
        """Before a save: one more version if it changes what editors edit, unless the
        caller passed `_same_version=True` (a re-render with the same text)."""
        same_version = kwargs.pop("_same_version", False)
        update_fields = kwargs.get("update_fields")
        if same_version or self._state.adding:
            return
        if update_fields is None or self.EDITED_FIELDS & set(update_fields):
            # In the database, so that two saves from stale instances still count twice;
            # Django reads the new number back (RETURNING).
            self.version = F("version") + 1
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version"}

    def changed_by(self, user):
        """Record who made a change: the fields to save with it."""
        if user is None:
            return ["modified_at"]
        self.modified_by = user
        return ["modified_at", "modified_by"]


class Category(ContentModel):
    shared_content = True

    name = models.CharField(max_length=100)
    # Unicode allowed: a WordPress section may be /category/ειδήσεις/, and keeps its address.
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="Optional: file this section under a broader one.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="category_not_its_own_parent"
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # As for posts and sources: pasted control characters never reach a page or feed.
        self.name = clean_text(self.name)
        self.description = clean_text(self.description)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("blog:category", kwargs={"slug": self.slug})

    @staticmethod
    def tree():
        """{pk: category}: every section, from one query, then the shared cache."""
        return remember(
            "categories", lambda: {c.pk: c for c in Category.objects.all()}, shared=True
        )

    @staticmethod
    def with_slug(slug):
        """The category at /category/<slug>/, from the cached tree; 404 if there is none."""
        for category in Category.tree().values():
            if category.slug == slug:
                return category
        raise Http404("No such section.")

    @staticmethod
    def lineage(category_id):
        """[root, …, the category itself], however deep the nesting."""
        categories = Category.tree()
        chain, seen = [], set()
        while category_id in categories and category_id not in seen:
            seen.add(category_id)
            chain.append(categories[category_id])
            category_id = categories[category_id].parent_id
        return chain[::-1]

    @staticmethod
    def descendant_ids(category_id):
        """The category and every category nested under it."""
        children = {}
        for category in Category.tree().values():
            children.setdefault(category.parent_id, []).append(category.pk)
        found, todo = set(), [category_id]
        while todo:
            pk = todo.pop()
            if pk not in found:
                found.add(pk)
                todo.extend(children.get(pk, []))
        return found

    def clean(self):
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": "A category cannot sit inside itself."})
            ancestor = ancestor.parent


class SourceQuerySet(ContentQuerySet):
    def named(self, name):
        """The source called `name`, by its name or one of its aliases (any case)."""
        name = " ".join(name.split())
        if not name:
            return None
        wanted = name.casefold()
        candidates = self.filter(Q(name__iexact=name) | Q(aliases__icontains=name))
        for source in candidates:
            if source.name.casefold() == wanted:
                return source
        for source in candidates:
            if wanted in (alias.casefold() for alias in source.alias_list()):
                return source
        return None

    def for_attribution(self, name, outlet_name=None):
        """Find or create the sources an attribution line names.

        `Name, Outlet` is a person at an outlet: a person without an affiliation gets
        this one. A lone unknown name's kind is guessed; editors can correct it.
        """
        outlet = None
        if outlet_name:
            outlet = self.named(outlet_name) or self._create(outlet_name, Source.Kind.OUTLET)
        source = self.named(name)
        if source is None:
            kind = Source.Kind.PERSON if outlet else guess_kind(name)
            source = self._create(name, kind, affiliation=outlet)
        elif outlet and source.affiliation_id is None and source.kind == Source.Kind.PERSON:
            source.affiliation = outlet
            source.save(update_fields=["affiliation"])
        return source, outlet

    def preview_attribution(self, name, outlet_name=None):
        """Like for_attribution, but creates nothing: unknown names get unsaved sources,
        with the address saving would give them (slugify() keeps nothing of "日本" or "!!!",
        and the quote's caption links to it)."""
        outlet = None
        if outlet_name:
            outlet = self.named(outlet_name) or Source(
                name=outlet_name,
                slug=slugify(outlet_name) or unique_slug(Source, outlet_name),
                kind=Source.Kind.OUTLET,
            )
        source = self.named(name) or Source(
            name=name, slug=slugify(name) or unique_slug(Source, name)
        )
        return source, outlet

    def _create(self, name, kind, affiliation=None, attempts=3):
        name = " ".join(name.split())
        try:
            with transaction.atomic():
                return self.create(
                    name=name,
                    slug=unique_slug(Source, name),
                    kind=kind,
                    affiliation=affiliation,
                )
        except IntegrityError:
            # Another save just created this name, or took the slug we picked.
            existing = self.named(name)
            if existing is not None or attempts <= 1:
                return existing
            return self._create(name, kind, affiliation, attempts - 1)


def guess_kind(name):
    words = set(slugify(name).split("-"))
    if words & OUTLET_WORDS or name.lower().startswith("the "):
        return Source.Kind.OUTLET
    return Source.Kind.PERSON


class Source(ContentModel):
    shared_content = True

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        OUTLET = "outlet", "Outlet"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.PERSON)
    url = models.URLField(blank=True, help_text="The person's or outlet's own website.")
    affiliation = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        limit_choices_to={"kind": "outlet"},
        help_text="For a person: the outlet they write or speak for.",
    )
    aliases = models.TextField(
        blank=True,
        help_text="Other spellings that mean this source, one per line "
        "(e.g. “NYT” for “The New York Times”). Quotes attributed to them land here.",
    )
    description = models.TextField(blank=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="source_name_unique_ci"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = clean_text(self.name)
        self.aliases = clean_text(self.aliases)
        self.description = clean_text(self.description)
        update_fields = kwargs.get("update_fields")
        # The posts that quote a source are found by its name and aliases too.
        renamed = (
            not self._state.adding
            and (update_fields is None or {"name", "aliases"} & set(update_fields))
            and Source.objects.filter(pk=self.pk)
            .exclude(name=self.name, aliases=self.aliases)
            .exists()
        )
        with transaction.atomic():
            super().save(*args, **kwargs)
            if renamed:
                quoting = Quote.objects.filter(source=self).values_list("post_id", flat=True)
                index_for_search(quoting.distinct())

    def get_absolute_url(self):
        return reverse("blog:source", kwargs={"slug": self.slug})

    def alias_list(self):
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]

    def add_aliases(self, names):
        known = {a.casefold() for a in self.alias_list()} | {self.name.casefold()}
        aliases = self.alias_list()
        for name in names:
            if name and name.casefold() not in known:
                aliases.append(name)
                known.add(name.casefold())
        self.aliases = "\n".join(aliases)


def published_q(via="", in_trash=False):
    """published() as a condition, for rows reached through a join (`via="post__"`).

    `in_trash=True` matches the posts that would be public if they were not in the trash.
    """
    return Q(
        **{
            f"{via}status": Post.Status.PUBLISHED,
            f"{via}published_at__lte": timezone.now(),
            f"{via}deleted_at__isnull": not in_trash,
        }
    )


class PostQuerySet(ContentQuerySet):
    def published(self):
        """The one definition of publicly visible."""
        return self.filter(published_q())

    def gone(self):
        """Posts readers could see until they went to the trash: their addresses are 410."""
        return self.filter(published_q(in_trash=True))

    def tagged(self, tag):
        """Posts with this tag, as EXISTS: both engines walk the list's index and stop at a
        page. At 100,000 posts, for a tag on a third of them, a join took 70 ms on
        PostgreSQL and IN 104 ms on SQLite; EXISTS 1.3 and 1.4 ms."""
        from taggit.models import TaggedItem

        tagged = TaggedItem.objects.filter(
            tag=tag, content_type=ContentType.objects.get_for_model(Post), object_id=OuterRef("pk")
        )
        return self.filter(Exists(tagged))

    def for_listing(self):
        """What a list of posts shows: author, section, newest first; not the bodies.

        The threads' sizes come from attach_threads() on the page's posts.
        """
        return (
            self.select_related("author", "category")
            .defer("body", "body_html")
            .order_by("-published_at", "-id")
        )


class PostManager(models.Manager.from_queryset(PostQuerySet)):
    def get_queryset(self):
        # The search vector (a few KB a post) is read by the database alone: a post is
        # never loaded with it, and save() never writes it back (blog/search.py does).
        return super().get_queryset().defer("search_vector")


def attach_threads(posts):
    """Give each post its thread's size and stamps, from one query over visible updates.

    Sets update_count, updates_modified, last_update_at and last_correction_at: for
    validators, dates and the keys of cached fragments. One grouped query is much
    cheaper to build and read than a correlated subquery per figure.
    """
    posts = list(posts)
    ids = [post.pk for post in posts]

    def count():
        return list(
            Update.objects.due()
            .filter(post__in=ids)
            .order_by()
            .values("post")
            .annotate(
                count=Count("pk"),
                modified=Max("modified_at"),
                last=Max("published_at"),
                corrected=Max("published_at", filter=Q(kind=Update.Kind.CORRECTION)),
            )
        )

    # Like a list's count, the figures only change with the content: kept per version.
    figures = remember(f"threads:{','.join(map(str, ids))}", count)
    by_post = {row["post"]: row for row in figures}
    for post in posts:
        row = by_post.get(post.pk, {})
        post.update_count = row.get("count", 0)
        post.updates_modified = row.get("modified")
        post.last_update_at = row.get("last")
        post.last_correction_at = row.get("corrected")
    return posts


def validate_image_size(image):
    """Migration 0001 names this; blog/images.py checks uploads' size now."""
    if image.size > settings.MARKDOWNX_UPLOAD_MAX_SIZE:
        limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE // (1024 * 1024)
        raise ValidationError(f"Images can be at most {limit} MB.")


class Post(EditedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        # An imported WordPress post keeps its address, in any script (/2026/03/αθήνα-…/).
        allow_unicode=True,
        help_text="The last part of the post's address.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="posts")
    tags = TaggableManager(blank=True)
    excerpt = models.TextField(
        blank=True, help_text="A sentence or two for lists and feeds. Plain text."
    )
    body = models.TextField(
        validators=[MarkdownValidator(settings.DATELINE["MAX_BODY_CHARS"])],
        help_text="Markdown. A quote is a blockquote whose last line names its source: "
        "“— Dana Reyes, The Tribune” or “— [The Ledger](https://…)”.",
    )
    body_html = models.TextField(editable=False, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Leave empty to use the moment you publish. A future time schedules it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    is_developing = models.BooleanField(
        "developing story",
        default=False,
        help_text="Open a “More as it develops…” thread that readers can follow.",
    )
    developing_ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    guid = models.CharField(max_length=255, blank=True, editable=False)
    image = CleanImageField(
        upload_to="posts/%Y/%m/",
        blank=True,
        help_text="A JPEG, PNG, GIF or WebP image. It is stored without its metadata "
        "(camera, place).",
    )
    image_alt = models.CharField(
        max_length=300, blank=True, help_text="Describe the image for readers who cannot see it."
    )
    # In the trash since (readers get 410 Gone); emptying the trash deletes for good.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Signs this post's preview links: a new key revokes every link given out before.
    preview_key = models.CharField(max_length=32, blank=True, editable=False)
    # Search (blog/search.py) keeps these current on every save. PostgreSQL stores the
    # post's words here, weighted, under a GIN index that migration 0009 creates; SQLite
    # keeps them in its FTS5 table instead and leaves this column empty.
    search_vector = SearchVectorField(null=True, editable=False)
    # When an update dated ahead falls due; its words join the index then.
    search_refresh_at = models.DateTimeField(null=True, editable=False)

    objects = PostManager()

    class Meta:
        ordering = ["-published_at", "-id"]
        # Roles (blog/roles.py): who may make a post public, and who may edit anyone's.
        permissions = [
            ("publish_post", "Can publish posts and post updates"),
            ("edit_others_posts", "Can edit other people's posts"),
        ]
        indexes = [
            # Every list: published, newest first, ties by id; an index-only scan finds
            # the ids of any page, however deep.
            models.Index(fields=["status", "-published_at", "-id"], name="post_published_order"),
            # A section's archive and feed, counted and paged the same way.
            models.Index(
                fields=["category", "status", "-published_at", "-id"], name="post_category_order"
            ),
            # Search asks, before each search, which posts have an update that fell due.
            models.Index(
                fields=["search_refresh_at"],
                name="post_search_refresh",
                condition=Q(search_refresh_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="published_post_has_date",
            ),
            models.UniqueConstraint(
                fields=["guid"], condition=~Q(guid=""), name="post_guid_unique"
            ),
        ]

    def __str__(self):
        return self.title

    # The fields of the admin's post form (blog/admin.py); history restores them too.
    FORM_FIELDS = [
        "title",
        "slug",
        "category",
        "tags",
        "excerpt",
        "body",
        "status",
        "published_at",
        "author",
        "is_developing",
        "image",
        "image_alt",
    ]
    # Moving to the trash, too, makes an open form stale.
    EDITED_FIELDS = frozenset(FORM_FIELDS) - {"tags"} | {"deleted_at"}

    def save(self, *args, **kwargs):
        self.count_version(kwargs)
        update_fields = kwargs.get("update_fields")
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "published_at"}
        self.title = clean_text(self.title)
        self.excerpt = clean_text(self.excerpt)
        self.body = clean_text(self.body)
        render_body = update_fields is None or "body" in update_fields
        with transaction.atomic():
            if render_body:
                rendered = render(self.body, Source.objects.for_attribution)
                self.body_html = rendered.html
                if update_fields is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "body_html"}
            super().save(*args, **kwargs)
            if not self.guid and self.status == self.Status.PUBLISHED:
                self.guid = tag_uri("post", self.pk, self.published_at)
                Post.objects.filter(pk=self.pk).update(guid=self.guid)
            if render_body:
                rebuild_quotes(self, None, rendered.quotes)
            elif "published_at" in kwargs["update_fields"]:
                Quote.objects.filter(post=self, update=None).update(published_at=self.published_at)
            if update_fields is None or {"title", "excerpt", "body"} & set(update_fields):
                index_for_search([self.pk])
            notify_hub(self)

    def get_absolute_url(self):
        year, month = self.url_date()
        return reverse("blog:post", kwargs={"year": year, "month": month, "slug": self.slug})

    def clean(self):
        super().clean()
        # "Leave empty to use the moment you publish": the form checks the constraints
        # before save() would fill it in.
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()

    def url_date(self):
        """(year, month) of the post's address: its publication, in the site's time zone."""
        when = timezone.localtime(self.published_at or timezone.now())
        return when.year, when.month

    def is_at(self, year, month):
        return self.url_date() == (year, month)

    @property
    def is_published(self):
        # published() for one instance in memory.
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
            and self.deleted_at is None
        )

    def move_to_trash(self, by=None):
        """Hide the post from readers (410 Gone), keeping every row of it for a restore."""
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at", *self.changed_by(by)])

    def restore(self, by=None):
        """Take the post out of the trash, as it was: same id, slug, feed id, quotes, thread."""
        self.deleted_at = None
        self.save(update_fields=["deleted_at", *self.changed_by(by)])

    def rerender(self):
        """Render the body and every update again (after the renderer or a source changed)."""
        with transaction.atomic():
            # The text is unchanged: an editor's open form is not out of date.
            self.save(update_fields=["body", "modified_at"], _same_version=True)
            for update in self.updates.all():
                update.save(_same_version=True)

    def set_developing(self, is_open, save=True, by=None):
        """Open or close the update thread, recording when it closed."""
        self.is_developing = is_open
        self.developing_ended_at = None if is_open else timezone.now()
        if save:
            fields = ["is_developing", "developing_ended_at", *self.changed_by(by)]
            self.save(update_fields=fields)


class UpdateQuerySet(ContentQuerySet):
    def due(self):
        """Updates whose time has come (an update can be dated ahead, like a post)."""
        return self.filter(published_at__lte=timezone.now())

    def corrections(self):
        """Every correction readers can see, site-wide."""
        return self.due().filter(published_q("post__"), kind=Update.Kind.CORRECTION)


class Update(EditedModel):
    class Kind(models.TextChoices):
        UPDATE = "update", "Update"
        CORRECTION = "correction", "Correction"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="updates")
    body = models.TextField(
        validators=[MarkdownValidator(settings.DATELINE["MAX_UPDATE_CHARS"])],
        help_text="Markdown, with the same quote syntax as the post.",
    )
    body_html = models.TextField(editable=False, blank=True)
    kind = models.CharField(max_length=12, choices=Kind, default=Kind.UPDATE)
    published_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(auto_now=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="updates"
    )
    guid = models.CharField(max_length=255, blank=True, editable=False)

    objects = UpdateQuerySet.as_manager()

    class Meta:
        ordering = ["published_at", "id"]
        indexes = [
            models.Index(fields=["post", "published_at"], name="update_post_published"),
            # The page cache asks when the next scheduled update falls due.
            models.Index(fields=["published_at"], name="update_published"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["guid"], condition=~Q(guid=""), name="update_guid_unique"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to “{self.post}” at {self.published_at:%Y-%m-%d %H:%M}"

    # The fields of the admin's update inline (blog/admin.py).
    FORM_FIELDS = ["kind", "published_at", "body"]
    EDITED_FIELDS = frozenset(FORM_FIELDS) | {"author"}

    def save(self, *args, **kwargs):
        self.count_version(kwargs)
        self.body = clean_text(self.body)
        with transaction.atomic():
            rendered = render(self.body, Source.objects.for_attribution)
            self.body_html = rendered.html
            super().save(*args, **kwargs)
            if not self.guid:
                self.guid = tag_uri("update", self.pk, self.published_at)
                Update.objects.filter(pk=self.pk).update(guid=self.guid)
            rebuild_quotes(self.post, self, rendered.quotes)
            index_for_search([self.post_id])
            notify_hub(self.post, self)

    def get_absolute_url(self):
        return f"{self.post.get_absolute_url()}#update-{self.pk}"

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            deleted = super().delete(*args, **kwargs)
            index_for_search([self.post_id], kwargs.get("using"))
            return deleted


class Quote(ContentModel):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="quotes")
    update = models.ForeignKey(
        Update, on_delete=models.CASCADE, null=True, blank=True, related_name="quotes"
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="quotes")
    text = models.TextField()
    url = models.URLField(max_length=2000, blank=True)
    attribution = models.CharField(max_length=500)
    position = models.PositiveIntegerField()
    # Its update's time, else its post's: a source's page lists quotes newest first from
    # an index, not by sorting every quote of a much-quoted source on each visit.
    published_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["post_id", "update_id", "position"]
        indexes = [
            models.Index(fields=["source", "post"], name="quote_source_post"),
            models.Index(fields=["source", "-published_at"], name="quote_source_published"),
        ]

    def __str__(self):
        return f"{self.source}: {self.text[:60]}"

    def get_absolute_url(self):
        if self.update_id:
            return self.update.get_absolute_url()
        return self.post.get_absolute_url()


def index_for_search(post_ids, using=None):
    """Index posts again after a save changed what they are found by (blog/search.py)."""
    from blog import search  # it searches these models: imported once they exist

    search.refresh(post_ids, using)


def rebuild_quotes(post, update, found):
    """Replace the Quote rows of one post body or one update with those just rendered."""
    Quote.objects.filter(post=post, update=update).delete()
    Quote.objects.bulk_create(
        Quote(
            post=post,
            update=update,
            source=quote.source,
            text=quote.text,
            url=quote.url if len(quote.url) <= 2000 else "",
            attribution=quote.attribution[:500],
            position=position,
            published_at=update.published_at if update else post.published_at,
        )
        for position, quote in enumerate(found, start=1)
    )


class Autosave(models.Model):
    """What an editor last typed in a post's form, kept by the server while they type
    (blog/autosave.py), so a crashed tab or an expired session loses nothing. One per
    editor and post; `post` is empty for a post not saved yet."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="autosaves"
    )
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="autosaves"
    )
    title = models.CharField(max_length=200, blank=True)
    excerpt = models.TextField(blank=True)
    body = models.TextField(blank=True)
    # The post's version the text was typed over.
    base_version = models.PositiveIntegerField(null=True, blank=True)
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="autosave_one_per_post"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(post__isnull=True), name="autosave_one_new_post"
            ),
        ]

    def __str__(self):
        return f"{self.user} on {self.post or 'a new post'} at {self.saved_at:%Y-%m-%d %H:%M}"


class LegacyAddress(models.Model):
    """An address the site had before, such as a WordPress permalink or `/?p=ID`.

    Readers who follow it are sent (301) to where the content lives now: a post, a
    section, a flat page, or a plain address (an old attachment's file). The target is
    looked up when the address is asked for, so a later change of slug never breaks it.
    """

    # As Django decodes it (request.path): `/2026/03/αθήνα-…/`, `/?p=6` for a query.
    path = models.CharField(max_length=500, unique=True)
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="legacy_addresses"
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="legacy_addresses",
    )
    page = models.ForeignKey(
        "flatpages.FlatPage",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="legacy_addresses",
    )
    target = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "legacy addresses"
        constraints = [
            models.CheckConstraint(
                condition=Q(post__isnull=False)
                | Q(category__isnull=False)
                | Q(page__isnull=False)
                | ~Q(target=""),
                name="legacy_address_has_target",
            ),
        ]

    def __str__(self):
        return self.path

    def destination(self):
        """Where the address leads now, or None when that is not public (a draft)."""
        if self.post_id:
            return self.post.get_absolute_url() if self.post.is_published else None
        if self.category_id:
            return self.category.get_absolute_url()
        if self.page_id:
            return None if self.page.registration_required else self.page.url
        return self.target or None


class WordPressItem(models.Model):
    """What a WordPress import made of one thing in the export, so that importing the
    same export again changes nothing, and an editor's later edits are noticed."""

    class Kind(models.TextChoices):
        AUTHOR = "author"
        CATEGORY = "category"
        TAG = "tag"
        POST = "post"
        PAGE = "page"
        UPDATE = "update"
        FILE = "file"

    # The exported site's address (WXR base_site_url): two blogs can share ids.
    site = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind)
    # WordPress's id (a post, a term), an author's login, an update's "post id#n", or a
    # file's path under wp-content/uploads.
    key = models.CharField(max_length=255)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    # FILE: the copy's name in media storage.
    stored_name = models.CharField(max_length=255, blank=True)
    # What the import last wrote, hashed: a row that no longer matches was edited here.
    fingerprint = models.CharField(max_length=64, blank=True)
    # What the export said of it, hashed: a new export that differs brings a change.
    source_fingerprint = models.CharField(max_length=64, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "kind", "key"], name="wordpress_item_unique"),
        ]

    def __str__(self):
        return f"{self.site} {self.kind} {self.key}"
