"""No silent overwrite: a form opened at an older version of a post or update is refused."""


class LockedFormMixin:
    """For the post form and the update inline's form (filled in by the locking work)."""


class LockingAdminMixin:
    """For the post admin (filled in by the locking work)."""
