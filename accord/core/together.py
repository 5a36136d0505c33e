"""Several short reads in one statement.

A page that shows several short lists of one record (an escalation's children, its
discussions, its timeline, its documents...) spent a statement on each, and a statement
costs more than its few rows. ``read_together`` reads them in one: a ``UNION ALL`` of the
querysets as Django writes them, each in columns of its own (NULL in the others' columns),
each row numbered by its own queryset's ordering. Its answer is what each queryset would
give: the same model instances, with what they were read with (``select_related``, and the
record a related manager's queryset belongs to), in the same order.
"""

from __future__ import annotations

import operator

from django.db import connections
from django.db.models import QuerySet, Window
from django.db.models.functions import RowNumber
from django.db.models.query import get_related_populators

_ROW = "_accord_row"


def read_together(*querysets: QuerySet) -> list[list]:
    """Each queryset's model instances, all read in one statement (on the first's database)."""
    if not querysets:
        return []
    db = querysets[0].db
    connection = connections[db]
    parts = []
    for qs in querysets:
        ordering = list(qs.query.order_by) or list(qs.model._meta.ordering) or ["pk"]
        numbered = qs.annotate(**{_ROW: Window(RowNumber(), order_by=ordering)})
        if not numbered.query.is_sliced:
            numbered = numbered.order_by()  # the row number keeps the order
        compiler = numbered.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        if compiler.has_extra_select:  # pragma: no cover - not for DISTINCT querysets
            raise ValueError("read_together reads no DISTINCT queryset")
        parts.append((numbered, compiler, sql, params))

    def nothing(compiler) -> list[str]:
        # Typed, for PostgreSQL (which matches a UNION's columns two branches at a time).
        if connection.vendor != "postgresql":
            return ["NULL"] * len(compiler.select)
        return [f"CAST(NULL AS {s[0].output_field.cast_db_type(connection)})" for s in compiler.select]

    nulls = [", ".join(nothing(compiler)) for _qs, compiler, _sql, _params in parts]  # once each
    branches, all_params = [], []
    for n, (_qs, _compiler, sql, params) in enumerate(parts):
        columns = [str(n)]
        for m in range(len(parts)):
            if m == n:
                columns.append("t.*")
            elif nulls[m]:
                columns.append(nulls[m])
        branches.append(f"SELECT {', '.join(columns)} FROM ({sql}) t")  # noqa: S608 - Django's own SQL
        all_params += params
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), all_params)
        rows = cursor.fetchall()

    found = []
    start = 1
    for n, (qs, compiler, _sql, _params) in enumerate(parts):
        width = len(compiler.select)
        mine = [row[start : start + width] for row in rows if row[0] == n]
        start += width
        found.append(_instances(qs, compiler, mine))
    return found


def _instances(queryset: QuerySet, compiler, rows: list) -> list:
    """What ``ModelIterable`` makes of the rows, in the queryset's order."""
    db = queryset.db
    select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model_cls = klass_info["model"]
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    related_populators = get_related_populators(klass_info, select, db)
    known = [
        (
            field,
            objs,
            operator.attrgetter(
                *[
                    field.attname
                    if from_field == "self"
                    else queryset.model._meta.get_field(from_field).attname
                    for from_field in field.from_fields
                ]
            ),
        )
        for field, objs in queryset._known_related_objects.items()
    ]
    made = []
    for row in compiler.results_iter(results=[rows]):
        obj = model_cls.from_db(db, init_list, row[start:end])
        for populator in related_populators:
            populator.populate(row, obj)
        for name, position in annotation_col_map.items():
            setattr(obj, name, row[position])
        for field, objs, getter in known:
            if not field.is_cached(obj) and getter(obj) in objs:
                setattr(obj, field.name, objs[getter(obj)])
        made.append(obj)
    made.sort(key=operator.attrgetter(_ROW))
    for obj in made:
        delattr(obj, _ROW)
    return made
