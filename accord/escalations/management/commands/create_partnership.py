"""manage.py create_partnership SLUG --name NAME [--preset P | --protocol FILE]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.escalations.management.commands.protocol import read_document
from accord.escalations.protocol import partnership_create
from accord.partnership.protocol import DEFAULT_PRESET, ladder_of, preset, preset_names


class Command(BaseCommand):
    help = (
        "Set up a new partnership with its ladder (from a preset or a protocol file), the default "
        "taxonomies and the England and Wales bank-holiday calendar."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Short name, for example torbay.")
        parser.add_argument(
            "--name", required=True, help="For example 'Torbay Safeguarding Children Partnership'."
        )
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--preset", choices=preset_names(), help=f"Default: {DEFAULT_PRESET}.")
        source.add_argument("--protocol", help="A protocol JSON file (as `protocol export` writes).")
        parser.add_argument("--prefix", default="", help="Reference prefix (default: from the short name).")
        parser.add_argument(
            "--front-door-phone", default="", help="The children's services front door number."
        )

    def handle(self, *args, slug: str, name: str, **options):
        document = (
            read_document(options["protocol"])
            if options["protocol"]
            else preset(options["preset"] or DEFAULT_PRESET)
        )
        try:
            partnership = partnership_create(
                actor=None,
                name=name,
                slug=slug,
                document=document,
                prefix=options["prefix"],
                front_door_phone=options["front_door_phone"],
                preset_name=options["preset"] or "",
                actor_label="manage.py create_partnership",
            )
        except ValidationError as error:
            problems = error.message_dict
            if "protocol" in problems:
                raise CommandError(
                    "The protocol was not applied:\n- " + "\n- ".join(problems["protocol"])
                ) from None
            raise CommandError(" ".join(m for messages in problems.values() for m in messages)) from None
        ladder = ladder_of(partnership)
        self.stdout.write(
            f"Created {partnership.name} ({partnership.slug}, references {partnership.reference_prefix}-…) "
            f"with a {len(ladder.stages)}-stage ladder; formal from stage {ladder.formal_from}, "
            f"to the {ladder.formal_body_name}."
        )
