"""The reports' PDFs (the annual report, the PDG's meeting pack), written by WeasyPrint."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _


def render_pdf(html: str) -> bytes | None:
    """The page as a tagged PDF (PDF/UA-1): a structure tree of headings, paragraphs and
    tables with their header cells, the document's language and title, so that a screen
    reader reads it as the page is read. None where the server lacks WeasyPrint's Pango."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError):  # pragma: no cover - WeasyPrint needs Pango from the system
        return None
    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")


def pango_missing() -> HttpResponse:
    return HttpResponse(
        _("The PDF needs the Pango library installed on the server (Debian: libpango-1.0-0)."),
        status=503,
        content_type="text/plain",
    )
