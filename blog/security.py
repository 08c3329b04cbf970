"""Response headers Django does not send by itself, and a check of ids clients send."""

from django.conf import settings
from django.core.exceptions import ValidationError


def permissions_policy(features):
    """`{"camera": [], "fullscreen": ["self"]}` → `camera=(), fullscreen=(self)`."""
    return ", ".join(
        f"{feature}=({' '.join(origins)})" for feature, origins in sorted(features.items())
    )


def csp_nonce(request):
    """This answer's CSP nonce, made on first use ("" without the CSP middleware). A
    LazyNonce is false until used, so test for None, not truth."""
    nonce = getattr(request, "_csp_nonce", None)
    return "" if nonce is None else str(nonce)


class PermissionsPolicyMiddleware:
    """Tell browsers which powerful features no page of ours (or a page framing ours) uses."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy(settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


def could_be_key(field, value):
    """Whether `value`, as a client sent it, converts to a key that `field` can hold: "abc",
    "1.5", a NUL or a number beyond the column's range name no row, and a query given one
    fails (the admin and its history pages look ids up as sent)."""
    try:
        field.run_validators(field.to_python(value))
    except (ValidationError, ValueError, OverflowError):
        return False
    return True
