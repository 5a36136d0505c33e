from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partnership", "0007_formal_body_words"),
    ]

    operations = [
        migrations.AddField(
            model_name="stage",
            name="facilitated",
            field=models.BooleanField(
                default=False,
                help_text="A facilitator the parties' managers appoint helps the people who work the stage, beside them, without the stage being formal (for example a stage where a third person helps the practitioners think again before it goes to their managers).",
                verbose_name="facilitated",
            ),
        ),
    ]
