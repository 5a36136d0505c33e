"""The empty catalogues behind the English one are pruned without changing any translation."""

from django.utils import translation
from django.utils.translation import trans_real

from accord.core.i18n import _is_empty, prune_empty_fallbacks

MESSAGES = ["Reference", "Enter a valid date.", "This field is required.", "Escalations you can see", ""]


def _chain(catalogue):
    while catalogue is not None:
        yield catalogue
        catalogue = getattr(catalogue, "_fallback", None)


def test_pruning_keeps_every_translation_and_drops_only_empty_catalogues():
    trans_real._translations.clear()  # built afresh, as a new worker would
    with translation.override("en-gb"):
        before = [translation.gettext(m) for m in MESSAGES]
        plurals = [translation.ngettext("%(n)s escalation", "%(n)s escalations", n) for n in (0, 1, 2)]
        built = list(_chain(trans_real.translation("en-gb")))
        assert any(_is_empty(c) for c in built)  # Django's apps' empty "en" catalogues
        prune_empty_fallbacks()
        after = list(_chain(trans_real.translation("en-gb")))
        assert not any(_is_empty(c) for c in after)
        # Only empty catalogues were taken out, and the rest keep their order.
        assert [c for c in built if not _is_empty(c)] == after
        assert [translation.gettext(m) for m in MESSAGES] == before
        assert [
            translation.ngettext("%(n)s escalation", "%(n)s escalations", n) for n in (0, 1, 2)
        ] == plurals
        assert plurals == ["%(n)s escalations", "%(n)s escalation", "%(n)s escalations"]


def test_the_first_request_prunes_the_catalogues(client, db):
    from accord.core import i18n

    trans_real._translations.clear()
    i18n.prune_at_first_request()
    client.get("/login/")
    assert not any(_is_empty(c) for c in _chain(trans_real.translation("en-gb")))


def test_the_catalogue_tool_finds_messages_marked_with_the_lazy_alias():
    """``gettext_lazy as _lazy`` (where a module's ``_`` is ``gettext``) marks messages too:
    the tool that keeps the Welsh catalogue must find them, or their pages stay in English."""
    import ast
    import importlib.machinery
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "bin" / "translations"
    loader = importlib.machinery.SourceFileLoader("accord_translations_tool", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    tool = importlib.util.module_from_spec(spec)
    loader.exec_module(tool)
    source = 'TITLES = {"with": _lazy("Who the difference is with")}\nx = _("Plain")\n'
    found = tool._from_python(ast.parse(source))
    assert ("", "Who the difference is with", None) in found
    assert ("", "Plain", None) in found
