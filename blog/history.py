"""History: every save of a post, update, source or section is a revision (django-reversion)."""


class PostHistoryMixin:
    """For the post admin (filled in by the history work)."""
