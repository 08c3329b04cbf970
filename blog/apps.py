from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Dateline"

    def ready(self):
        from blog import caching, history, pages, renditions
        from blog.admin import make_every_admin_tamper_proof

        caching.connect_signals()
        history.register()
        pages.connect_signals()
        renditions.connect_signals()
        # The admin has discovered every app's admin by now (it is listed before us).
        make_every_admin_tamper_proof()
