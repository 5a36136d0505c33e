"""manage.py create_partnership SLUG --name NAME [--preset P | --protocol FILE]"""

import re

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.escalations.management.commands.protocol import read_document, refusal
from accord.partnership.defaults import install_defaults
from accord.partnership.models import Partnership
from accord.partnership.protocol import DEFAULT_PRESET, install_ladder, parse_document, preset, preset_names


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
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,49}", slug):
            raise CommandError("The short name is lower-case letters, digits and hyphens, up to 50.")
        if Partnership.objects.filter(slug=slug).exists():
            raise CommandError(f"A partnership with the short name {slug!r} already exists.")
        if Partnership.objects.filter(name=name).exists():
            raise CommandError(f"A partnership named {name!r} already exists.")
        prefix = (options["prefix"] or re.sub(r"[^A-Z0-9]", "", slug.upper())[:3]).upper()
        if Partnership.objects.filter(reference_prefix=prefix).exists():
            raise CommandError(f"The reference prefix {prefix} is taken: choose one with --prefix.")
        document = (
            read_document(options["protocol"])
            if options["protocol"]
            else preset(options["preset"] or DEFAULT_PRESET)
        )
        try:
            protocol = parse_document(document)
        except ValidationError as error:
            raise refusal(error) from None
        with transaction.atomic():
            partnership = Partnership.objects.create(
                name=name,
                slug=slug,
                reference_prefix=prefix,
                front_door_phone=options["front_door_phone"] or "not yet set",
            )
            install_defaults(partnership)
            install_ladder(partnership, protocol)
            audit_record(
                actor=None,
                verb=Verb.CONFIGURATION_CHANGED,
                target=partnership,
                partnership_id=partnership.pk,
                payload={"action": "partnership_created", "preset": options["preset"] or "", "slug": slug},
            )
        self.stdout.write(
            f"Created {name} ({slug}, references {prefix}-…) with a {len(protocol.stages)}-stage ladder; "
            f"formal from stage {min(s.number for s in protocol.stages if s.formal)}, "
            f"to the {protocol.formal_body_name}."
        )
