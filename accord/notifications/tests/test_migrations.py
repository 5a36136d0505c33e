"""The outbox stopped pointing at escalations' table: a notification about an escalation names
it instead ("escalation:42"), and one written before the change keeps naming it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accord.escalations.notices import notifications_about

BEFORE = [("notifications", "0001_initial")]
AFTER = [("notifications", "0002_about_any_record")]


@pytest.mark.django_db(transaction=True)
def test_a_notification_written_before_the_move_still_names_its_escalation(world):
    e = world.raised()
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps.get_model("notifications", "Notification")
        old.objects.all().delete()
        old.objects.create(
            key="before-the-move",
            recipient_id=world.manager_social.pk,
            partnership_id=world.partnership.pk,
            subject=e.reference,
            path=f"/escalations/{e.pk}/",
            escalation_id=e.pk,
            kind="raised_with_you",
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())  # (and on, to leave the schema whole)
    assert list(notifications_about([e.pk]).values_list("key", flat=True)) == ["before-the-move"]
