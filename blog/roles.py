"""Roles: what a Contributor, an Author and an Editor may do, enforced by the admin."""


class PostRolesMixin:
    """For the post admin (filled in by the roles work)."""


class UpdateInlineRolesMixin:
    """For the post admin's update inline (filled in by the roles work)."""
