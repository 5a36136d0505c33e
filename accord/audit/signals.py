"""Log-in, failed log-in and log-out go to the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import Verb
from .services import audit_record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(actor=user, verb=Verb.LOGIN, target=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, verb=Verb.LOGOUT, target=user, request=request)


def _account(username: str):
    """The account a failed sign-in tried (its entry is then shown to the auditors of every
    partnership the account works in), or None for a name that is no one's."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username).first() if username else None


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor=None,
        verb=Verb.LOGIN_FAILED,
        target=_account(username),
        payload={"username": username},
        request=request,
    )


def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    username = str(username or "")[:150]
    audit_record(
        actor=None,
        actor_label="anonymous",
        verb=Verb.LOCKED_OUT,
        target=_account(username),
        payload={"username": username},
        request=request,
    )


try:
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="accord_audit_locked_out")
except ImportError:  # pragma: no cover - axes is a pinned dependency
    pass
