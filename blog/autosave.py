"""Autosave, the server's side: the copy of a post's title, excerpt and body that the editor's
browser sends while they type (static/js/autosave.js keeps one in the browser too)."""

import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from blog.markdown import clean_text
from blog.models import Autosave


def discard(user, post):
    """Forget the user's copy of this post (None: of the post they had not saved yet)."""
    Autosave.objects.filter(user=user, post=post).delete()


def as_json(copy):
    return {
        "title": copy.title,
        "excerpt": copy.excerpt,
        "body": copy.body,
        "base_version": copy.base_version,
        "saved_at": copy.saved_at.isoformat(),
    }


def page_data(model_admin, request, post):
    """What autosave.js needs, given to the change form as data attributes."""
    copy = Autosave.objects.filter(user=request.user, post=post).first()
    return {
        "url": reverse(
            f"{model_admin.admin_site.name}:blog_post_autosave", args=[post.pk if post else "new"]
        ),
        "key": f"dateline-autosave:{request.user.pk}:{post.pk if post else 'new'}",
        "version": post.version if post else "",
        "server_copy": json.dumps(as_json(copy)) if copy else "",
    }


def refusal(message, status):
    return JsonResponse({"error": message}, status=status)


def endpoint(model_admin):
    """The view at <post id or "new">/autosave/: GET the copy, POST one, DELETE it (or POST
    discard=1). Answers in JSON, a refusal too, so the page can tell an expired session
    (403) from a copy it need not offer (404)."""

    @csrf_protect
    def store(request, post):
        if request.method == "GET":
            copy = Autosave.objects.filter(user=request.user, post=post).first()
            if copy is None:
                return refusal("No copy kept.", 404)
            return JsonResponse(as_json(copy))
        if request.method == "DELETE" or request.POST.get("discard") == "1":
            discard(request.user, post)
            return JsonResponse({"discarded": True})
        fields, limits = {}, {"title": 200, "excerpt": 10_000, "body": body_limit()}
        for name, limit in limits.items():
            fields[name] = clean_text(request.POST.get(name, ""))
            if len(fields[name]) > limit:
                return refusal(f"The {name} is longer than {limit:,} characters.", 400)
        base_version = request.POST.get("base_version", "")
        if base_version and not (base_version.isdigit() and int(base_version) < 2**31):
            return refusal("Bad version number.", 400)
        fields["base_version"] = int(base_version) if base_version else None
        fields["saved_at"] = timezone.now()
        try:
            with transaction.atomic():
                Autosave.objects.update_or_create(user=request.user, post=post, defaults=fields)
        except IntegrityError:
            # Two saves of a first copy at once: the other one won, this one is next.
            return refusal("Saved by another request at the same time: try again.", 409)
        return JsonResponse({"saved_at": fields["saved_at"].isoformat()})

    @never_cache
    def view(request, post_id):
        if not model_admin.admin_site.has_permission(request):
            return refusal("Your session has ended: sign in again.", 403)
        if request.method not in ("GET", "POST", "DELETE"):
            response = refusal("Method not allowed.", 405)
            response["Allow"] = "GET, POST, DELETE"
            return response
        post = None
        if post_id == "new":
            if not model_admin.has_add_permission(request):
                return refusal("You may not write posts.", 403)
        else:
            if post_id.isdigit() and len(post_id) < 10:
                post = model_admin.get_object(request, post_id)
            if post is None:
                return refusal("No such post.", 404)
            if not model_admin.has_change_permission(request, post):
                return refusal("You may not edit this post.", 403)
        return store(request, post)

    return view


def body_limit():
    return settings.DATELINE["MAX_BODY_CHARS"]
