"""The table of who may see which escalation (``Visibility``), kept exact.

Rule 7 read the other way round: for an escalation, everyone who may see it. It is
written here once, as one SQL statement in parts (``_ARMS``), and every change to the
table goes through it, for the escalations or the people a change touches:

- an escalation saved with a change to who it involves, its highest stage or whether it
  is formal, another agency added to it or removed, and a facilitator appointed or
  removed: that escalation (``for_escalations``);
- a person's roles, agency or whether their account is active: that person
  (``for_people``);
- a person's line manager: the escalations they raised or are named in, which their old
  and new line manager see through them (``for_escalations_involving``);
- an escalation deleted: its rows, before the deletion cascades to them.

Each recount also notes how it changed each person's count (``VisibilityChange``), which
``count_visible`` adds to their folded total (``VisibilityCount``). The signals below call
the escalations' recounts inside the transaction of the change; a change of people (which
may move hundreds of thousands of rows) is recounted once it is committed, in chunks,
beside everyone else's work ("after a change of people" below), so a busy manager's count
may lag by seconds while no one waits for it. The services, the admin and the demo loader
all save through the ORM. A bulk load (the generator) calls ``rebuild`` at its end. ``differences``
compares the table with a fresh recount (``rebuild_visibility --check``), and the tests
compare it with ``visibility_filter``, the statement of rule 7 that lists use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from accord.partnership.models import Role, RoleAssignment, User, WorkedBy
from accord.partnership.protocol import sees_from_sql
from accord.partnership.roles import FORMAL_BODY_ROLES, LEADER_ROLES, TIER_ROLES

from .models import Escalation, OtherParty, PdgAction, Visibility, VisibilityChange, VisibilityCount

# An escalation's fields that rule 7 reads; a save that changes none of them moves nothing.
ESCALATION_FIELDS = frozenset(
    {
        "partnership",
        "raised_by",
        "with_practitioner",
        "raising_agency",
        "with_agency",
        "highest_stage",
        "formal_at",
        "raised_at",  # kept with each pair, for the unfiltered list's order
    }
)
# A person's fields that rule 7 reads about the viewer.
VIEWER_FIELDS = frozenset({"agency", "is_active"})


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "esc": q(Escalation._meta.db_table),
        "user": q(User._meta.db_table),
        "role": q(RoleAssignment._meta.db_table),
        "pdg": q(PdgAction._meta.db_table),
        "party": q(OtherParty._meta.db_table),
        "vis": q(Visibility._meta.db_table),
        "counts": q(VisibilityCount._meta.db_table),
        "changes": q(VisibilityChange._meta.db_table),
    }


def _in(roles) -> str:
    return ", ".join(f"'{r}'" for r in sorted(roles))


_MANAGER = next(iter(TIER_ROLES[WorkedBy.MANAGERS]))
_SENIOR = next(iter(TIER_ROLES[WorkedBy.SENIOR_LEADERS]))
# The first stage that involves each tier, read from the escalation's own ladder.
_MANAGERS_FROM = sees_from_sql(WorkedBy.MANAGERS, "e.partnership_id")
_SENIORS_FROM = sees_from_sql(WorkedBy.SENIOR_LEADERS, "e.partnership_id")

# Each part of rule 7, read from the escalation (alias ``e``): the viewer it lets in, the
# joins it needs and its condition.
_ARMS: tuple[tuple[str, str, str], ...] = (
    # A party: the raiser, the named practitioner, and the raiser's line manager.
    ("e.raised_by_id", "", "1 = 1"),
    ("e.with_practitioner_id", "", "e.with_practitioner_id IS NOT NULL"),
    # (The line manager while they hold a manager's or senior leader's role there, and
    # only of the agency it was raised from: not a later one after the raiser moved.)
    (
        "r.line_manager_id",
        "JOIN {user} r ON r.id = e.raised_by_id "
        "JOIN {user} lm ON lm.id = r.line_manager_id AND lm.agency_id = e.raising_agency_id",
        "r.line_manager_id IS NOT NULL AND EXISTS (SELECT 1 FROM {role} lr WHERE lr.user_id = r.line_manager_id "  # noqa: S608 - no user input
        f"AND lr.partnership_id = e.partnership_id AND lr.role IN ({_in(LEADER_ROLES)}))",
    ),
    # A manager of a party's agency: from the first stage managers work; before, if they
    # line-manage the named practitioner, or if the escalation is with their agency and
    # names nobody. A senior leader of a party's agency: from the first stage senior
    # leaders work. (One part, read from the partnership's few role holders rather than
    # from everyone in the two agencies.)
    (
        "m.id",
        "JOIN {role} mr ON mr.partnership_id = e.partnership_id "
        f"AND mr.role IN ({_in(LEADER_ROLES)}) "
        "JOIN {user} m ON m.id = mr.user_id AND m.agency_id IN (e.raising_agency_id, e.with_agency_id) "
        "LEFT JOIN {user} w ON w.id = e.with_practitioner_id",
        f"((mr.role = '{_MANAGER}' AND (e.highest_stage >= {_MANAGERS_FROM} OR w.line_manager_id = m.id "
        "OR (e.with_practitioner_id IS NULL AND e.with_agency_id = m.agency_id))) "
        f"OR (mr.role = '{_SENIOR}' AND e.highest_stage >= {_SENIORS_FROM}))",
    ),
    # The same for each other agency the difference is with: the practitioner it names,
    # and its managers and senior leaders (a manager before their stage if they
    # line-manage that practitioner, or if it names nobody).
    ("o.practitioner_id", "JOIN {party} o ON o.escalation_id = e.id", "o.practitioner_id IS NOT NULL"),
    (
        "m.id",
        "JOIN {party} o ON o.escalation_id = e.id "
        "JOIN {role} mr ON mr.partnership_id = e.partnership_id "
        f"AND mr.role IN ({_in(LEADER_ROLES)}) "
        "JOIN {user} m ON m.id = mr.user_id AND m.agency_id = o.agency_id "
        "LEFT JOIN {user} w ON w.id = o.practitioner_id",
        f"((mr.role = '{_MANAGER}' AND (e.highest_stage >= {_MANAGERS_FROM} OR w.line_manager_id = m.id "
        "OR o.practitioner_id IS NULL)) "
        f"OR (mr.role = '{_SENIOR}' AND e.highest_stage >= {_SENIORS_FROM}))",
    ),
    # The formal body, once formal.
    (
        "p.user_id",
        f"JOIN {{role}} p ON p.partnership_id = e.partnership_id AND p.role IN ({_in(FORMAL_BODY_ROLES)})",
        "e.formal_at IS NOT NULL",
    ),
    # The assigned facilitator.
    (
        "f.facilitator_id",
        "JOIN {pdg} f ON f.escalation_id = e.id "
        "JOIN {role} fr ON fr.user_id = f.facilitator_id AND fr.partnership_id = e.partnership_id "
        f"AND fr.role = '{Role.FACILITATOR.value}'",
        "f.facilitator_id IS NOT NULL AND f.ended_at IS NULL",
    ),
)


# The escalation's columns that the parts read.
_COLUMNS = (
    "id",
    "partnership_id",
    "raised_by_id",
    "with_practitioner_id",
    "raising_agency_id",
    "with_agency_id",
    "highest_stage",
    "formal_at",
    "raised_at",
)


def _audience(*, escalations: str | None = None, viewers: str | None = None) -> str:
    """Rule 7 as (viewer, partnership, escalation, when it was raised) rows: for the escalations matching the
    SQL condition ``escalations`` (on ``e``; its parameters are given once), for the
    viewers in ``viewers`` (placeholders, repeated in each of the ``_ARMS``), or for
    everything. A viewer must be active and hold a role in the escalation's partnership,
    as ``visibility_filter`` requires."""
    t = _tables()
    source, prefix = f"{t['esc']} e", ""
    if escalations:
        # The few escalations read once, so that each part is planned over them and not
        # over the whole table (planning the parts cost more than running them).
        columns = ", ".join(f"e.{c}" for c in _COLUMNS)
        prefix = f"WITH chosen AS MATERIALIZED (SELECT {columns} FROM {t['esc']} e WHERE {escalations}) "  # noqa: S608
        source = "chosen e"
    parts = []
    for viewer, joins, condition in _ARMS:
        condition = condition.format(**t)
        where = f"{condition} AND {viewer} IN ({viewers})" if viewers else condition
        parts.append(
            f"SELECT {viewer} AS viewer_id, e.partnership_id AS partnership_id, e.id AS escalation_id, "  # noqa: S608
            "e.raised_at AS raised_at "
            f"FROM {source} {joins.format(**t)} WHERE {where}"
        )
    union = " UNION ".join(parts)
    return (
        f"{prefix}SELECT a.viewer_id, a.partnership_id, a.escalation_id, a.raised_at "  # noqa: S608 - no user input
        f"FROM ({union}) a JOIN {t['user']} v ON v.id = a.viewer_id "
        f"WHERE v.is_active AND EXISTS (SELECT 1 FROM {t['role']} vr "
        "WHERE vr.user_id = a.viewer_id AND vr.partnership_id = a.partnership_id)"
    )


def _placeholders(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))


# The key of the lock that orders recounts on PostgreSQL (SQLite lets one writer in at a time).
LOCK_KEY = 7_170_717


def _lock(cursor, *, exclusive: bool) -> None:
    """Recounts of escalations share this lock; recounts of people (an administrator's
    change, rare and wide) take it alone. Without it, a recount of a person could miss a row
    that a concurrent recount of an escalation wrote from a snapshot taken before the
    person's change, and leave it behind. Held to the end of the whole transaction."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SELECT pg_advisory_xact_lock{'' if exclusive else '_shared'}(%s)", [LOCK_KEY])


def _replace(
    delete: str | None,
    insert: str,
    params: Sequence,
    repeat: int,
    *,
    exclusive: bool,
    insert_params: Sequence | None = None,
) -> None:
    """Deletes rows (unless there can be none) and inserts their recount, and notes what
    that changed in each person's count (``VisibilityChange``), all in one transaction (the
    caller's, when there is one: an error here undoes the change that called it). A row
    another recount wrote meanwhile is left as it is (the insert ignores it, and only the
    rows it wrote are counted)."""
    change: Counter = Counter()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _lock(cursor, exclusive=exclusive)
        if delete:
            cursor.execute(f"{delete} RETURNING user_id, partnership_id", list(params))
            change.update(cursor.fetchall())
        values = list(insert_params) if insert_params is not None else list(params) * repeat
        cursor.execute(f"{insert} ON CONFLICT DO NOTHING RETURNING user_id, partnership_id", values)
        change.subtract(Counter(cursor.fetchall()))
        _note_changes({key: -n for key, n in change.items() if n})


def _note_changes(changes: dict[tuple[int, int], int]) -> None:
    VisibilityChange.objects.bulk_create(
        [VisibilityChange(user_id=u, partnership_id=p, delta=d) for (u, p), d in sorted(changes.items())],
        batch_size=1000,
    )


def _insert(select: str) -> str:
    vis = _tables()["vis"]
    return f"INSERT INTO {vis} (user_id, partnership_id, escalation_id, raised_at) {select}"


def _recount(ids: Iterable[int], *, column: str, new: bool = False) -> None:
    """Recount the rows of these escalations (``column`` "escalation_id") or of these
    viewers ("user_id"); ``new`` escalations have none to delete."""
    ids = sorted(set(ids))
    if not ids:
        return
    if column == "user_id" and not Escalation.objects.exists():
        # No escalation yet (a partnership setting up its people): no pair to delete or
        # write, and planning rule 7's statement would cost more than the answer.
        return
    marks = _placeholders(ids)
    if column == "escalation_id":
        audience = _audience(escalations=f"e.id IN ({marks})")
    else:
        audience = _audience(viewers=marks)
    vis = _tables()["vis"]
    delete = None if new else f"DELETE FROM {vis} WHERE {column} IN ({marks})"  # noqa: S608
    by_escalation = column == "escalation_id"
    _replace(delete, _insert(audience), ids, 1 if by_escalation else len(_ARMS), exclusive=not by_escalation)


def for_escalations(ids: Iterable[int], *, new: bool = False) -> None:
    """Recount who may see these escalations (``new``: just created)."""
    _recount(ids, column="escalation_id", new=new)


def for_people(ids: Iterable[int]) -> None:
    """Recount what these people may see (after a change to their roles, agency or account)."""
    _recount(ids, column="user_id")


def for_escalations_involving(person_id: int) -> None:
    """Recount who may see the escalations this person raised or is named in (their line
    manager sees those through them)."""
    t = _tables()
    party = f"SELECT o.escalation_id FROM {t['party']} o WHERE o.practitioner_id = %s"  # noqa: S608 - no user input
    involving = f"e.raised_by_id = %s OR e.with_practitioner_id = %s OR e.id IN ({party})"
    _replace(
        f"DELETE FROM {t['vis']} WHERE escalation_id IN (SELECT e.id FROM {t['esc']} e WHERE {involving})",  # noqa: S608
        _insert(_audience(escalations=involving)),
        [person_id, person_id, person_id],
        1,
        exclusive=True,
    )


# ---------------------------------------------------------------- after a change of people
#
# A change to a person (roles, agency, account) or to a line manager moves what may be a
# great many rows: everything a busy manager sees (218,579 at national scale). Recounted
# in the change's own transaction, under the exclusive lock, every escalation written
# meanwhile waited for all of it (14-19 s). So, unless ``ACCORD_RECOUNT_AFTER_COMMIT`` is
# off (the test suite's transactions never commit), the recount runs once the change is
# committed: it first takes the exclusive lock and lets it go (waiting only for recounts
# already running, whose snapshots may predate the change: every recount after it reads
# the change), then recounts in chunks, each its own short transaction under the shared
# lock, beside everyone else's. The list reads its rows through rule 7 itself, so a count
# that lags for those seconds never shows anyone an escalation they may not see.

PEOPLE_CHUNK = 5000  # escalations a person's recount covers in one transaction
INVOLVING_CHUNK = 250


def _after_commit(now, later) -> None:
    from django.conf import settings

    if getattr(settings, "ACCORD_RECOUNT_AFTER_COMMIT", True):
        # At once, outside a transaction. The change is saved whatever happens to its
        # recount: a failure is logged (``manage.py rebuild_visibility`` puts it right).
        transaction.on_commit(later, robust=True)
    else:
        now()


def _barrier() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, exclusive=True)


def recount_people(ids: Iterable[int]) -> None:
    """Recount what these people may see, a chunk of escalations at a time (after their
    change is committed)."""
    ids = sorted(set(ids))
    if not ids:
        return
    _barrier()
    marks = _placeholders(ids)
    vis = _tables()["vis"]
    top = Escalation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for low in range(1, top + 1, PEOPLE_CHUNK):
        high = low + PEOPLE_CHUNK - 1
        _replace(
            f"DELETE FROM {vis} WHERE user_id IN ({marks}) AND escalation_id BETWEEN %s AND %s",  # noqa: S608
            _insert(_audience(escalations="e.id BETWEEN %s AND %s", viewers=marks)),
            [*ids, low, high],
            1,
            exclusive=False,
            insert_params=[low, high, *(ids * len(_ARMS))],
        )


def recount_involving(person_id: int) -> None:
    """Recount who may see the escalations this person raised or is named in, a chunk at
    a time (after a change of their line manager is committed)."""
    _barrier()
    involved = list(
        Escalation.objects.filter(
            Q(raised_by_id=person_id)
            | Q(with_practitioner_id=person_id)
            | Q(pk__in=OtherParty.objects.filter(practitioner_id=person_id).values("escalation_id"))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(involved), INVOLVING_CHUNK):
        for_escalations(involved[start : start + INVOLVING_CHUNK])


def people_changed(ids: Iterable[int]) -> None:
    ids = sorted(set(ids))
    _after_commit(lambda: for_people(ids), lambda: recount_people(ids))


def line_manager_changed(person_id: int) -> None:
    _after_commit(lambda: for_escalations_involving(person_id), lambda: recount_involving(person_id))


def rebuild() -> int:
    """Recount the whole table and everyone's counts (after a bulk load or a restore).
    Returns the pairs written."""
    t = _tables()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _lock(cursor, exclusive=True)
        cursor.execute(f"DELETE FROM {t['vis']}")  # noqa: S608
        cursor.execute(_insert(_audience()))
        written = cursor.rowcount
        cursor.execute(f"DELETE FROM {t['changes']}")  # noqa: S608
        cursor.execute(f"DELETE FROM {t['counts']}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {t['counts']} (user_id, partnership_id, n) "  # noqa: S608
            f"SELECT user_id, partnership_id, COUNT(*) FROM {t['vis']} GROUP BY user_id, partnership_id"
        )
    return written


class Differences(NamedTuple):
    missing: int  # pairs rule 7 allows that the table lacks
    extra: int  # pairs the table holds that rule 7 does not allow
    miscounted: int  # people whose count is not the number of their pairs


def differences() -> Differences:
    """How the table and the counts differ from a recount by rule 7: all 0 when exact."""
    t = _tables()
    kept = f"SELECT user_id, partnership_id, escalation_id, raised_at FROM {t['vis']}"  # noqa: S608
    counted = _audience()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({counted} EXCEPT {kept}) missing")  # noqa: S608
        missing = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM ({kept} EXCEPT {counted}) extra")  # noqa: S608
        extra = cursor.fetchone()[0]
        pairs = (
            f"SELECT user_id, partnership_id, COUNT(*) AS n FROM {t['vis']} GROUP BY user_id, partnership_id"  # noqa: S608
        )
        totals = (
            f"SELECT user_id, partnership_id, SUM(n) AS n FROM (SELECT user_id, partnership_id, n "  # noqa: S608
            f"FROM {t['counts']} UNION ALL SELECT user_id, partnership_id, delta FROM {t['changes']}) "
            "parts GROUP BY user_id, partnership_id HAVING SUM(n) <> 0"
        )
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT * FROM ({pairs}) a EXCEPT SELECT * FROM ({totals}) b) x"  # noqa: S608
        )
        miscounted = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT * FROM ({totals}) b EXCEPT SELECT * FROM ({pairs}) a) x"  # noqa: S608
        )
        miscounted += cursor.fetchone()[0]
    return Differences(missing, extra, miscounted)


# A person's changes are folded into their count once this many have piled up, so reading
# a count reads at most about this many rows besides it.
FOLD_AFTER = 500


def count_visible(user, partnership_id: int) -> int:
    """How many escalations of the partnership this user may see (rule 7): their count as
    last folded plus the changes since, in one statement (so one consistent snapshot)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return 0
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT n FROM {t['counts']} WHERE user_id = %s AND partnership_id = %s), "  # noqa: S608
            f"SUM(delta), COUNT(*) FROM {t['changes']} WHERE user_id = %s AND partnership_id = %s",
            [user.pk, partnership_id, user.pk, partnership_id],
        )
        folded, since, changes = cursor.fetchone()
    if changes >= FOLD_AFTER:
        fold(user.pk, partnership_id)
    return (folded or 0) + (since or 0)


def fold(user_id: int, partnership_id: int) -> None:
    """Folds a person's changes into their count."""
    _fold("user_id = %s AND partnership_id = %s", [user_id, partnership_id])


def fold_all() -> int:
    """Folds everyone's changes into their counts, so that the changes of people who never
    read a count do not pile up (the worker does this on each reminder sweep). Returns how
    many people's counts changed."""
    return _fold("1 = 1", [])


def _fold(where: str, params: list) -> int:
    """The changes are deleted and added to the counts in one transaction, so a concurrent
    count sees either both before or both after; a change written meanwhile is not deleted
    (it was not there to be read) and stays for next time."""
    t = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {t['changes']} WHERE {where} RETURNING user_id, partnership_id, delta",  # noqa: S608
            params,
        )
        totals: Counter = Counter()
        for user_id, partnership_id, delta in cursor.fetchall():
            totals[(user_id, partnership_id)] += delta
        if totals:
            cursor.executemany(
                f"INSERT INTO {t['counts']} (user_id, partnership_id, n) VALUES (%s, %s, %s) "  # noqa: S608
                "ON CONFLICT (user_id, partnership_id) DO UPDATE SET n = "
                f"{t['counts']}.n + EXCLUDED.n",
                [(u, p, n) for (u, p), n in sorted(totals.items())],
            )
    return len(totals)


# --------------------------------------------------------------------------- keeping it


def _escalation_saved(sender, instance: Escalation, created: bool, update_fields=None, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    if created or update_fields is None or ESCALATION_FIELDS & set(update_fields):
        for_escalations([instance.pk], new=created)


def _own_deletion(sender, kwargs) -> bool:
    """Whether a deletion began with this kind of record, not by cascading from the
    escalation, person or partnership it belongs to (whose rows go with it)."""
    origin = kwargs.get("origin")
    model = getattr(origin, "model", type(origin))
    return model is sender


def _escalation_deleting(sender, instance: Escalation, **kwargs) -> None:
    """Takes the escalation's rows out, noting the change to each viewer's count, before
    the deletion would cascade to them without it."""
    vis = _tables()["vis"]
    with connection.cursor() as cursor:
        _lock(cursor, exclusive=False)
        cursor.execute(
            f"DELETE FROM {vis} WHERE escalation_id = %s RETURNING user_id, partnership_id",  # noqa: S608
            [instance.pk],
        )
        _note_changes({key: -1 for key in cursor.fetchall()})


def _pdg_action_changed(sender, instance: PdgAction, **kwargs) -> None:
    if kwargs.get("raw") or ("origin" in kwargs and not _own_deletion(sender, kwargs)):
        return
    if instance.facilitator_id is not None or not kwargs.get("created", True):
        for_escalations([instance.escalation_id])


def _other_party_changed(sender, instance: OtherParty, **kwargs) -> None:
    if kwargs.get("raw") or ("origin" in kwargs and not _own_deletion(sender, kwargs)):
        return
    for_escalations([instance.escalation_id])


def _person_saving(sender, instance: User, update_fields=None, **kwargs) -> None:
    """Notes what the person was before the save, for ``_person_saved``."""
    instance._accord_before = None
    if kwargs.get("raw") or instance.pk is None:
        return
    if update_fields is not None and not (VIEWER_FIELDS | {"line_manager"}) & set(update_fields):
        return
    instance._accord_before = (
        User.objects.filter(pk=instance.pk).values_list("agency_id", "is_active", "line_manager_id").first()
    )


def _person_saved(sender, instance: User, created: bool, **kwargs) -> None:
    before = getattr(instance, "_accord_before", None)
    instance._accord_before = None
    if created or before is None:
        return
    agency_id, is_active, line_manager_id = before
    if (agency_id, is_active) != (instance.agency_id, instance.is_active):
        people_changed([instance.pk])
    if line_manager_id != instance.line_manager_id:
        line_manager_changed(instance.pk)


def _role_changed(sender, instance: RoleAssignment, **kwargs) -> None:
    if kwargs.get("raw") or ("origin" in kwargs and not _own_deletion(sender, kwargs)):
        return
    people_changed([instance.user_id])


def connect() -> None:
    post_save.connect(_escalation_saved, sender=Escalation, dispatch_uid="visibility-escalation")
    pre_delete.connect(_escalation_deleting, sender=Escalation, dispatch_uid="visibility-escalation-deleting")
    post_save.connect(_pdg_action_changed, sender=PdgAction, dispatch_uid="visibility-pdg-saved")
    post_delete.connect(_pdg_action_changed, sender=PdgAction, dispatch_uid="visibility-pdg-deleted")
    post_save.connect(_other_party_changed, sender=OtherParty, dispatch_uid="visibility-party-saved")
    post_delete.connect(_other_party_changed, sender=OtherParty, dispatch_uid="visibility-party-deleted")
    pre_save.connect(_person_saving, sender=User, dispatch_uid="visibility-person-saving")
    post_save.connect(_person_saved, sender=User, dispatch_uid="visibility-person-saved")
    post_save.connect(_role_changed, sender=RoleAssignment, dispatch_uid="visibility-role-saved")
    post_delete.connect(_role_changed, sender=RoleAssignment, dispatch_uid="visibility-role-deleted")
