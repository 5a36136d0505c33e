"""``{% worded "What worries you for the child?" subject %}``: a sentence written for a child,
in the words for the escalation's subject (``accord.escalations.subjects.worded``). Named
values fill its placeholders: ``{% worded "Child %(n)s" subject n=n %}``."""

from django import template

from accord.escalations.subjects import worded as worded_for

register = template.Library()


@register.simple_tag
def worded(text_for_child: str, subject: str, **values) -> str:
    text = worded_for(text_for_child, subject or "child")
    return text % values if values else text
