"""manage.py protocol export --partnership SLUG
manage.py protocol import --partnership SLUG FILE [--dry-run] [--move REMOVED=KEPT …]"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.escalations.protocol import protocol_apply
from accord.partnership.models import Partnership
from accord.partnership.protocol import document_of, load_document


def _partnership(slug: str) -> Partnership:
    found = Partnership.objects.filter(slug=slug).first()
    if found is None:
        raise CommandError(f"No partnership has the short name {slug!r}.")
    return found


def read_document(path: str):
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    try:
        return load_document(content)  # (size, depth and JSON, as the upload page checks them)
    except ValidationError as error:
        raise CommandError(f"{path}: " + " ".join(error.messages)) from None


def refusal(error: ValidationError) -> CommandError:
    return CommandError("The protocol was not applied:\n" + "\n".join(f"- {m}" for m in error.messages))


class Command(BaseCommand):
    help = "Export a partnership's protocol (its ladder and formal body) as JSON, or import one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Print the partnership's protocol as JSON.")
        export.add_argument("--partnership", required=True)
        load = sub.add_parser("import", help="Check a protocol document and apply it.")
        load.add_argument("--partnership", required=True)
        load.add_argument("file")
        load.add_argument(
            "--dry-run",
            action="store_true",
            help="Check it and list what it does to the open escalations; change nothing.",
        )
        load.add_argument(
            "--move",
            action="append",
            default=[],
            metavar="REMOVED=KEPT",
            help="Where the open escalations at a stage the file removes will stand (stage keys).",
        )

    def handle(self, *args, action: str, partnership: str, **options):
        found = _partnership(partnership)
        if action == "export":
            self.stdout.write(json.dumps(document_of(found), indent=2, ensure_ascii=False))
            return
        document = read_document(options["file"])
        moves = dict(m.split("=", 1) for m in options["move"] if "=" in m)
        try:
            change = protocol_apply(
                actor=None, partnership=found, document=document, dry_run=options["dry_run"], moves=moves
            )
        except ValidationError as error:
            raise refusal(error) from None
        verb = "would move" if options["dry_run"] else "moved"
        self.stdout.write(
            (
                "The protocol can be applied."
                if options["dry_run"]
                else f"Applied the protocol to {found.name}."
            )
            + f" Due dates {verb}: {len(change.moved)}."
        )
        if change.version is None:
            self.stdout.write("It changes nothing: no new version.")
        else:
            made = "would make" if options["dry_run"] else "made"
            self.stdout.write(f"It {made} version {change.version}:")
            for line in change.changes:
                self.stdout.write(f"  {line}")
        for m in change.moved:
            self.stdout.write(f"  {m.reference} (stage {m.stage}): {m.was} -> {m.becomes}")
        for s in change.affected:
            self.stdout.write(f"  {s.reference}: stands at {s.stage_now} -> {s.stage_after}")
            for label, names in (
                ("gains sight", s.gains_sight),
                ("loses sight", s.loses_sight),
                ("may now act", s.gains_action),
                ("may no longer act", s.loses_action),
            ):
                if names:
                    self.stdout.write(f"    {label}: {', '.join(names)}")
