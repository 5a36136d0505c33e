"""A difference can be with several agencies (``OtherParty``: those beyond the first); then
the table of who may see which escalation is recounted with today's rule 7, by the
statements that keep it afterwards. A later migration that changes a column or table these
statements read must move this recount after its own change (as this one moved 0020's)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def recount(apps, schema_editor):
    from accord.escalations import visibility

    visibility.rebuild()


class Migration(migrations.Migration):

    dependencies = [
        ('escalations', '0022_agreed_actions_done'),
        ('partnership', '0010_report_settings'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='event',
            name='type',
            field=models.CharField(choices=[('raised', 'Escalation raised'), ('discussion', 'Discussion recorded'), ('escalated', 'Moved to the next stage'), ('formally_escalated', 'Formally escalated'), ('paused', 'Paused'), ('resumed', 'Resumed'), ('pdg_action', 'Offer or action of the formal body recorded'), ('facilitator_appointed', 'Restorative facilitator appointed'), ('facilitator_ended', "Restorative facilitator's appointment ended"), ('action_completed', 'Agreed action done'), ('document_added', 'Evidence document attached'), ('party_added', 'Agency added to the difference'), ('party_removed', 'Agency removed from the difference'), ('resolved', 'Resolved'), ('withdrawn', 'Withdrawn'), ('reopened', 'Reopened')], max_length=30),
        ),
        migrations.CreateModel(
            name='OtherParty',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('added_at', models.DateTimeField()),
                ('added_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('agency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='partnership.agency')),
                ('escalation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='other_parties', to='escalations.escalation')),
                ('practitioner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='escalations_received_as_other', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['added_at', 'id'],
                'indexes': [models.Index(fields=['agency', 'escalation'], name='other_party_agency'), models.Index(fields=['practitioner', 'escalation'], name='other_party_practitioner')],
                'constraints': [models.UniqueConstraint(fields=('escalation', 'agency'), name='other_party_agency_once')],
            },
        ),
        migrations.RunPython(recount, migrations.RunPython.noop, elidable=True),
    ]
