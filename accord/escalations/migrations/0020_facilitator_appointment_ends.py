"""A facilitator's appointment can end (``PdgAction.ended_at``), and their access with it.
(The recount of who may see which escalation that followed it is in 0023, after the
other parties' table that rule 7's statements now read.)"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('escalations', '0019_recount_line_managers'),
        ('partnership', '0009_facilitators_see_children'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='pdgaction',
            name='ended_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='pdgaction',
            name='ended_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='event',
            name='type',
            field=models.CharField(choices=[('raised', 'Escalation raised'), ('discussion', 'Discussion recorded'), ('escalated', 'Moved to the next stage'), ('formally_escalated', 'Formally escalated'), ('paused', 'Paused'), ('resumed', 'Resumed'), ('pdg_action', 'Offer or action of the formal body recorded'), ('facilitator_appointed', 'Restorative facilitator appointed'), ('facilitator_ended', "Restorative facilitator's appointment ended"), ('document_added', 'Evidence document attached'), ('resolved', 'Resolved'), ('withdrawn', 'Withdrawn'), ('reopened', 'Reopened')], max_length=30),
        ),
    ]
