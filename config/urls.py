from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from blog import views
from blog.admin import markdown_preview, markdown_upload
from blog.caching import allow_methods

handler500 = "blog.views.server_error"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    # Named as django-markdownx expects, but staff-only and sanitised (see blog/admin.py).
    path("markdownx/markdownify/", markdown_preview, name="markdownx_markdownify"),
    path("markdownx/upload/", markdown_upload, name="markdownx_upload"),
]

if not settings.PRODUCTION:
    # In production, media lives in object storage or behind the web server.
    urlpatterns.append(
        path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", allow_methods(views.media_file))
    )

# Last: blog.urls ends with the flat pages, which take any address left.
urlpatterns.append(path("", include("blog.urls")))
