from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Dateline"

    def ready(self):
        from blog.admin import make_every_admin_tamper_proof
        from blog.caching import connect_signals

        connect_signals()
        # The admin has discovered every app's admin by now (it is listed before us).
        make_every_admin_tamper_proof()
