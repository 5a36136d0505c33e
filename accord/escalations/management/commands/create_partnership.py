"""manage.py create_partnership SLUG --name NAME [--preset P | --protocol FILE]
[--business-unit NAME] [--officer-name NAME --officer-email EMAIL]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.core.errors import NotAllowed
from accord.escalations.management.commands.protocol import read_document
from accord.escalations.protocol import partnership_create
from accord.partnership.protocol import DEFAULT_PRESET, ladder_of, preset, preset_names
from accord.partnership.services.invitations import invite, refusal_words


class Command(BaseCommand):
    help = (
        "Set up a new partnership with its ladder (from a preset or a protocol file), the default "
        "taxonomies, the England and Wales bank-holiday calendar and its business unit; with "
        "--officer-name and --officer-email, the business unit's first officer, sent an invitation."
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
        parser.add_argument(
            "--business-unit", default="", help="The business unit's name (default: NAME Business Unit)."
        )
        parser.add_argument("--officer-name", default="", help="The business unit's first officer's name.")
        parser.add_argument("--officer-email", default="", help="Their email: they are sent an invitation.")

    def handle(self, *args, slug: str, name: str, **options):
        document = (
            read_document(options["protocol"])
            if options["protocol"]
            else preset(options["preset"] or DEFAULT_PRESET)
        )
        try:
            created = partnership_create(
                actor=None,
                name=name,
                slug=slug,
                document=document,
                prefix=options["prefix"],
                front_door_phone=options["front_door_phone"],
                preset_name=options["preset"] or "",
                business_unit_name=options["business_unit"],
                officer_name=options["officer_name"],
                officer_email=options["officer_email"],
                actor_label="manage.py create_partnership",
            )
        except ValidationError as error:
            problems = error.message_dict
            if "protocol" in problems:
                raise CommandError(
                    "The protocol was not applied:\n- " + "\n- ".join(problems["protocol"])
                ) from None
            raise CommandError(" ".join(m for messages in problems.values() for m in messages)) from None
        partnership = created.partnership
        ladder = ladder_of(partnership)
        self.stdout.write(
            f"Created {partnership.name} ({partnership.slug}, references {partnership.reference_prefix}-…) "
            f"with a {len(ladder.stages)}-stage ladder; formal from stage {ladder.formal_from}, "
            f"to the {ladder.formal_body_name}; its business unit is {created.business_unit.name}."
        )
        if created.officer is not None:
            try:
                invite(actor=None, person=created.officer, partnership=partnership)
            except (ValidationError, NotAllowed) as refused:
                raise CommandError(
                    f"{created.officer.email} was added as the business unit's first officer but not "
                    f"invited: {refusal_words(refused)} (send it again from the people page)."
                ) from None
            self.stdout.write(f"{created.officer.email} has been sent an invitation to set their password.")
