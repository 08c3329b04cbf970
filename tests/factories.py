from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from blog.models import Category, Post, Source, Update


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"writer{n}")
    first_name = "Maria"
    last_name = factory.Sequence(lambda n: f"Writer{n}")
    is_staff = True

    @factory.post_generation
    def password_set(self, create, extracted, **kwargs):
        if extracted:
            self.set_password("correct horse battery")
            if create:
                self.save(update_fields=["password"])


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Section {n}")
    slug = factory.Sequence(lambda n: f"section-{n}")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Source Person {n}")
    slug = factory.Sequence(lambda n: f"source-person-{n}")
    kind = Source.Kind.PERSON


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Council budget story {n}")
    slug = factory.Sequence(lambda n: f"council-budget-story-{n}")
    author = factory.SubFactory(UserFactory)
    category = factory.SubFactory(CategoryFactory)
    excerpt = "The council is split and the vote is delayed."
    body = "The council met again tonight.\n\nNobody has the votes yet."
    status = Post.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.add(*extracted)


class UpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Update

    post = factory.SubFactory(PostFactory)
    author = factory.SelfAttribute("post.author")
    body = "The vote is now set for Thursday."
    published_at = factory.LazyFunction(timezone.now)


def quoted(text, attribution):
    """A Markdown blockquote with an attribution line."""
    lines = [f"> {line}" if line else ">" for line in text.split("\n")]
    return "\n".join([*lines, ">", f"> {attribution}"])


# The shape of DESIGN.md's example: commentary, two attributed quotes, the closing line.
TWO_QUOTES = "\n\n".join(
    [
        "So says the Tribune's city-hall reporter:",
        quoted("The council is divided three ways.", "— Dana Reyes, The Tribune"),
        "And here is more from the Ledger:",
        quoted(
            "Two members said they would not support it.",
            "— [The Ledger](https://ledger.example/2026/03/split)",
        ),
        "More as it develops…",
    ]
)


def developing_story():
    """A published story in Politics with two attributed quotes, two tags and an open
    thread of an update (quoting) and a correction. Times are to the second, as the
    admin's form takes them."""
    now = timezone.now().replace(microsecond=0)
    politics = CategoryFactory(name="Politics", slug="politics")
    post = PostFactory(
        title="Council split over the budget",
        slug="council-split",
        category=politics,
        tags=["budget", "council"],
        is_developing=True,
        body="\n\n".join(
            [
                "So says the Tribune's city-hall reporter:",
                quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
                "From the Ledger:",
                quoted(
                    "Two members will not cut transit.", "— [The Ledger](https://ledger.example/x)"
                ),
            ]
        ),
        published_at=now - timedelta(days=1),
    )
    UpdateFactory(
        post=post,
        body=quoted("The vote moves to Thursday.", "— Dana Reyes, The Tribune"),
        published_at=now - timedelta(hours=3),
    )
    UpdateFactory(
        post=post,
        kind=Update.Kind.CORRECTION,
        body="An earlier version misnamed the committee.",
        published_at=now - timedelta(hours=2),
    )
    return post
