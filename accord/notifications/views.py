from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accord.partnership.models import Language
from accord.partnership.selectors import partnerships_for, roles_by_partnership
from accord.partnership.services.people import person_language_set

from .models import Notification


class PreferenceForm(forms.Form):
    frequency = forms.ChoiceField(
        label=gettext_lazy("How would you like to be emailed?"),
        choices=[
            ("immediate", gettext_lazy("An email for each update")),
            ("digest", gettext_lazy("One email a day")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Select how you would like to be emailed")},
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Which language should Accord write to you in?"),
        help_text=gettext_lazy("Your emails and documents, and the pages once you sign in."),
        choices=Language.choices,
        widget=forms.RadioSelect,
        required=False,
    )


@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            user.email_digest = form.cleaned_data["frequency"] == "digest"
            user.save(update_fields=["email_digest"])
            if form.cleaned_data["language"]:
                person_language_set(actor=user, person=user, language=form.cleaned_data["language"])
            with translation.override(user.language or translation.get_language()):
                messages.success(request, _("Your email preference is saved"))
            return redirect("notifications")
    else:
        form = PreferenceForm(
            initial={"frequency": "digest" if user.email_digest else "immediate", "language": user.language}
        )
    partnership = request.partnership
    mine = Notification.objects.filter(recipient=user, partnership=partnership)
    items = list(mine[:100])
    unread = [n.pk for n in items if n.read_at is None]
    if unread:
        marked = Notification.objects.filter(pk__in=unread).update(read_at=timezone.now())
        if getattr(user, "_accord_unread", None) is not None:  # counted as the request began
            user._accord_unread = max(0, user._accord_unread - marked)
    # Elsewhere: how many wait in each other partnership the user works in (no references).
    several = len(roles_by_partnership(user)) > 1  # (most people work in one: no query)
    others = [p for p in partnerships_for(user) if p.pk != partnership.pk] if several else []
    waiting = (
        dict(
            Notification.objects.filter(recipient=user, partnership__in=others, read_at__isnull=True)
            .values_list("partnership")
            .annotate(n=Count("id"))
            .order_by()
        )
        if others
        else {}
    )
    elsewhere = [(p, waiting[p.pk]) for p in others if waiting.get(p.pk)]
    context = {"items": items, "unread": set(unread), "form": form, "elsewhere": elsewhere}
    return render(request, "notifications/list.html", context)
