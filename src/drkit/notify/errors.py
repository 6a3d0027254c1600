"""Errors of the notification backends.

    DrkitError
    ├── NotifyError                  exit 30  a backend did not take a notification
    │   ├── NotifyTransientError     exit 30  connection, timeout, HTTP 5xx/429, SMTP 4xx: retried
    │   ├── NotifyRejected           exit 30  HTTP 4xx, SMTP 5xx: the receiver refused it
    │   └── NotifyAuthError          exit 30  wrong key, token or SMTP password
    └── NotifierConfigError          exit 31  a notifier cannot be built as configured
        ├── UnknownNotifierType      exit 31
        ├── NotifierNotFound         exit 31
        └── NotifierSecretMissing    exit 31

Only :class:`NotifyTransientError` is worth retrying (``transient`` is True);
the dispatcher gives up on the others at once.
"""

from __future__ import annotations

from drkit.errors import DrkitError


class NotifyError(DrkitError):
    """A notification was not delivered."""

    code = "notify-failed"
    exit_code = 30
    default_hint = "check the notifier's settings in drkit.yaml; `drkit notify test NAME` tries it"
    transient: bool = False


class NotifyTransientError(NotifyError):
    """The receiver was unreachable, slow or busy; a later attempt may work."""

    code = "notify-transient"
    default_hint = "the receiver did not answer reliably; check that it is up and reachable"
    transient = True


class NotifyRejected(NotifyError):
    """The receiver answered and refused the notification; resending it will not help."""

    code = "notify-rejected"
    default_hint = "check the notifier's URL and settings; the receiver's answer says why"


class NotifyAuthError(NotifyError):
    """The receiver refused our credentials (key, token, password)."""

    code = "notify-auth"
    default_hint = "check the secret named by the notifier's *_env / *_file setting"


class NotifierConfigError(DrkitError):
    """A notifier cannot be built from its settings."""

    code = "notifier-config"
    exit_code = 31
    default_hint = "fix the notifier under 'notifiers' in drkit.yaml (see docs/notifications.md)"


class UnknownNotifierType(NotifierConfigError):
    code = "notifier-unknown-type"


class NotifierNotFound(NotifierConfigError):
    code = "notifier-not-found"


class NotifierSecretMissing(NotifierConfigError):
    code = "notifier-secret-missing"
    default_hint = (
        "export the environment variable or create the file named in drkit.yaml; "
        "secrets are never written into drkit.yaml itself"
    )


ALL_NOTIFY_ERRORS: tuple[type[DrkitError], ...] = (
    NotifyError,
    NotifyTransientError,
    NotifyRejected,
    NotifyAuthError,
    NotifierConfigError,
    UnknownNotifierType,
    NotifierNotFound,
    NotifierSecretMissing,
)
