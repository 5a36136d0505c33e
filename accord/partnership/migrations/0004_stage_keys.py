from django.db import migrations, models
from django.utils.text import slugify


def key_stages(apps, schema_editor):
    """Each stage its key, from its name (unique within its partnership)."""
    Stage = apps.get_model("partnership", "Stage")
    taken: dict[int, set[str]] = {}
    for stage in Stage.objects.order_by("partnership_id", "number"):
        used = taken.setdefault(stage.partnership_id, set())
        stage.key = stage_key(stage.name, stage.number, used)
        used.add(stage.key)
        stage.save(update_fields=["key"])


def stage_key(name: str, number: int, used: set[str]) -> str:
    base = slugify(name)[:26].strip("-") or f"stage-{number}"
    key, n = base, 2
    while key in used:
        key, n = f"{base}-{n}", n + 1
    return key


class Migration(migrations.Migration):
    dependencies = [
        ("partnership", "0003_sign_in_provider_owner"),
    ]

    operations = [
        migrations.AddField(
            model_name="stage",
            name="key",
            field=models.SlugField(
                default="",
                help_text="How Accord knows the stage across reviews of the protocol; it never changes.",
                max_length=30,
                verbose_name="key",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(key_stages, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="stage",
            constraint=models.UniqueConstraint(fields=("partnership", "key"), name="stage_key_unique"),
        ),
    ]
