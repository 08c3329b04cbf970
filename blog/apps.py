from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Dateline"

    def ready(self):
        from blog.caching import connect_signals

        connect_signals()
