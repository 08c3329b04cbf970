from django.conf import settings


def site(request):
    return {
        "site_name": settings.DATELINE["SITE_NAME"],
        "site_tagline": settings.DATELINE["SITE_TAGLINE"],
    }
