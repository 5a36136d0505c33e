"""Checking an upload before Accord keeps it: its type judged from its content (never its
name), a Word document opened and its expanded size bounded, markup never taken for text,
a safe file name, and the optional virus scan. Knows nothing of escalations."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accord.core import antivirus

SNIFFERS: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
]


_MARKUP = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<\s*[!?a-zA-Z/]")
# What a Word document (an archive) may hold, opened: at most this many entries and
# this many bytes in all once expanded, and no entry expanding more than 200 times.
DOCX_MAX_ENTRIES = 2000
DOCX_MAX_EXPANDED = 100 * 1024 * 1024
DOCX_MAX_RATIO = 200


def sniff_content_type(head: bytes) -> str | None:
    """The type of a file from its first bytes, never its name. Text that opens as markup
    (a web page, SVG or XML) is not plain text: a browser could run it."""
    for magic, content_type in SNIFFERS:
        if head.startswith(magic):
            return content_type
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The first bytes may end inside a character: judge them without the last three.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if "\x00" in text or _MARKUP.match(head):
        return None
    return "text/plain"


def docx_problem(content: bytes) -> str | None:
    """Why an archive named a Word document is not one Accord keeps (None if it is): it
    must open, hold a Word document's parts, and expand to a bounded size."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
            if len(entries) > DOCX_MAX_ENTRIES:
                return _("The selected Word document holds too many parts")
            if not {"[Content_Types].xml", "word/document.xml"} <= names:
                return _("The selected file must be a PDF, Word document, PNG, JPEG or plain text file")
            expanded = sum(e.file_size for e in entries)
            if expanded > DOCX_MAX_EXPANDED or any(
                e.file_size > DOCX_MAX_RATIO * max(e.compress_size, 1) for e in entries
            ):
                return _("The selected Word document expands to more than Accord keeps: save it as a PDF")
    except (zipfile.BadZipFile, OSError, ValueError):
        return _("The selected file must be a PDF, Word document, PNG, JPEG or plain text file")
    return None


def safe_filename(name: str) -> str:
    base = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = base.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "document"
    return base[:150]


def virus_check(content: bytes) -> None:
    if not antivirus.enabled():
        return
    try:
        found = antivirus.scan(content)
    except antivirus.ScanUnavailable:
        raise ValidationError(
            {"file": _("The file could not be checked for viruses. Try again later")}
        ) from None
    if found:
        raise ValidationError({"file": _("The selected file contains a virus")})
