"""API tokens: created, listed and revoked only through these services."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed
from accord.partnership.models import Role, RoleAssignment
from accord.partnership.selectors import roles_by_partnership

from .models import ApiToken, RateCount

TOKEN_PREFIX = "acc_"
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 366


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(
    *, actor, user, expires_days: int = DEFAULT_EXPIRY_DAYS, name: str = ""
) -> tuple[ApiToken, str]:
    """Make a token for ``user``; answer the record and the raw token (shown once, never stored)."""
    if not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise ValueError(f"expiry must be between 1 and {MAX_EXPIRY_DAYS} days")
    if actor is not None and actor.pk != user.pk and not _may_manage_tokens_of(actor, user):
        raise NotAllowed(
            "Only the user, their partnership's business unit (for someone who works in that "
            "partnership alone) or the deployment's administrators can create a token for them."
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=raw[:12],
            token_hash=token_hash(raw),
            expires_at=timezone.now() + dt.timedelta(days=expires_days),
        )
        for partnership_id in _trails_of(user):
            audit_record(
                actor=actor,
                verb=Verb.API_TOKEN_CREATED,
                target=token,
                partnership_id=partnership_id,
                payload={"user": user.username, "expires_days": expires_days},
            )
    return token, raw


def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke the token: by its user, the deployment's administrators, or the business unit of
    the one partnership its user works in (``_may_manage_tokens_of``). Audited in the trail
    of every partnership its user works in."""
    if actor.pk != token.user_id and not _may_manage_tokens_of(actor, token.user):
        raise NotAllowed(
            "Only the token's user, their partnership's business unit (for someone who works in "
            "that partnership alone) or the deployment's administrators can revoke it."
        )
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            for partnership_id in _trails_of(token.user):
                audit_record(
                    actor=actor,
                    verb=Verb.API_TOKEN_REVOKED,
                    target=token,
                    partnership_id=partnership_id,
                    payload={"user": token.user.username},
                )
    return token


def tokens_kept_by(partnership) -> QuerySet[ApiToken]:
    """The tokens this partnership's business unit sees and revokes: those of people who work
    in it and in no other partnership. A token acts as its user everywhere they work, so a
    shared person's token is no one partnership's to see or revoke (their own, and the
    deployment's administrators')."""
    here = RoleAssignment.objects.filter(partnership=partnership).values("user_id")
    elsewhere = RoleAssignment.objects.exclude(partnership=partnership).values("user_id")
    return ApiToken.objects.filter(user_id__in=here).exclude(user_id__in=elsewhere)


def tokens_of_shared_people(partnership) -> QuerySet[ApiToken]:
    """The tokens of the partnership's people who also work in another partnership."""
    here = RoleAssignment.objects.filter(partnership=partnership).values("user_id")
    elsewhere = RoleAssignment.objects.exclude(partnership=partnership).values("user_id")
    return ApiToken.objects.filter(user_id__in=here).filter(user_id__in=elsewhere)


def api_token_authenticate(raw: str):
    """The active user a raw token acts as, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    # The user's agency with them: their audit entries name it.
    token = ApiToken.objects.select_related("user__agency").filter(token_hash=token_hash(raw)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.user.api_token_id = token.pk
    return token.user


def _may_manage_tokens_of(actor, user) -> bool:
    """The deployment's administrators, or the business unit of the one partnership ``user``
    works in. Someone who works in several partnerships is no one business unit's: their
    token acts in every partnership they work in."""
    if actor.is_superuser:
        return True
    theirs = set(roles_by_partnership(user))
    if len(theirs) != 1:
        return False
    (only,) = theirs
    return Role.BUSINESS_UNIT in roles_by_partnership(actor).get(only, frozenset())


def _trails_of(user) -> list[int | None]:
    """The partnerships whose trails record a change to ``user``'s tokens: every one they
    work in (none: the deployment's own entry)."""
    return sorted(roles_by_partnership(user)) or [None]


def api_rate_count(token_id: int) -> int:
    """Count one more request by this token in the current minute, and answer how many it
    has made in it: one statement, atomic in the database whatever the number of workers
    and machines. A token's first request in a minute clears its minutes gone by (so the
    queries a request makes do not depend on chance)."""
    import time

    from django.db import connection

    minute = int(time.time() // 60)
    table = connection.ops.quote_name(RateCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (token_id, minute, count) VALUES (%s, %s, 1) "  # noqa: S608 - the model's table
            f"ON CONFLICT (token_id, minute) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [token_id, minute],
        )
        (count,) = cursor.fetchone()
    if count == 1:
        RateCount.objects.filter(token_id=token_id, minute__lt=minute).delete()
    return count
