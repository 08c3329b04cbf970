"""Response headers Django does not send by itself."""

from django.conf import settings


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
