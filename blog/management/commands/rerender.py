from django.core.management.base import BaseCommand

from blog.models import Post


class Command(BaseCommand):
    help = (
        "Render every post and update again and rebuild their quotes. "
        "Run it after the Markdown renderer or its allowlist changes."
    )

    def handle(self, *args, **options):
        posts = updates = 0
        for post in Post.objects.prefetch_related("updates").iterator(chunk_size=200):
            # One transaction per post: a failure leaves every other post as it was.
            post.rerender()
            posts += 1
            updates += len(post.updates.all())
        self.stdout.write(f"Re-rendered {posts} posts and {updates} updates.")
