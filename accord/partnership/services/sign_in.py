"""Each agency's own sign-in providers (OpenID Connect), kept by the business unit of the one
partnership that keeps the agency, or by the deployment's administrators where more than one
partnership keeps it. A provider signs in only people whose every partnership trusts it: a
partnership trusts the providers it keeps, and the deployment's on an agency it keeps.
Every change to a provider is in the trail of each partnership that keeps its agency."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.core.errors import NotAllowed

from ..models import Agency, Partnership, SignInProvider, User
from .common import audit_in_trails, by_field, require_business_unit
from .ownership import (
    agency_partnership_ids,
    keeps_identity,
    person_partnership_ids,
    refuse,
    shared_agency_words,
)
from .people import PersonDetails, person_add

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256")
DISCOVERY_TIMEOUT = 10


def _https(url: str) -> bool:
    return url.startswith("https://") or bool(getattr(settings, "ACCORD_SIGN_IN_ALLOW_HTTP", False))


def _public(url: str) -> bool:
    """The address is on the internet, not inside the hosting network (loopback, private,
    link-local: a cloud's metadata service, say). Where plain HTTP is allowed (the tests'
    own provider on this machine) any address is."""
    if getattr(settings, "ACCORD_SIGN_IN_ALLOW_HTTP", False):
        return True
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return True  # not resolved: the request fails on its own, plainly
    return all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)


def discover(provider: SignInProvider) -> None:
    """Fill the provider's endpoints from its issuer's discovery document (the issuer it
    names must be the one given). Every address is https, and a redirect is not followed (it
    could lead off https, or into the hosting network). Raises ``ValidationError``."""
    if not _https(provider.issuer):
        # Tokens and secrets go to it: never in the clear (and no reaching into plain-HTTP
        # services inside the hosting network by naming one as an issuer).
        raise ValidationError({"issuer": _("Enter the issuer's https:// address")})
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    if not _public(url):
        raise ValidationError({"issuer": _("Enter the address of a provider on the internet")})
    try:
        response = requests.get(url, timeout=DISCOVERY_TIMEOUT, allow_redirects=False)
        if response.is_redirect or 300 <= response.status_code < 400:
            raise ValidationError(
                {"issuer": _("The provider's address sends Accord elsewhere: enter the issuer's own address")}
            )
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("not an object")
    except (requests.RequestException, ValueError) as exc:
        raise ValidationError(
            {"issuer": _("Accord could not read the provider's configuration at %(url)s") % {"url": url}}
        ) from exc
    if str(document.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
        raise ValidationError(
            {
                "issuer": _(
                    "The provider at that address names another issuer: enter the issuer exactly as "
                    "its discovery document gives it"
                )
            }
        )
    needed = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    missing = [name for name in needed if not document.get(name)]
    if missing:
        raise ValidationError(
            {"issuer": _("The provider's configuration lacks %(names)s") % {"names": ", ".join(missing)}}
        )
    for name in needed:
        if not _https(str(document[name])) or not _public(str(document[name])):
            raise ValidationError(
                {"issuer": _("The provider's configuration names an address that is not https://")}
            )
        setattr(provider, name, str(document[name]))
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    provider.signing_algorithm = next((a for a in ALGORITHMS if a in offered), "")
    if not provider.signing_algorithm:
        raise ValidationError(
            {"issuer": _("The provider signs its tokens in no way Accord accepts (RS256 or ES256).")}
        )


@dataclass
class ProviderDetails:
    agency: Agency
    name: str
    issuer: str
    client_id: str
    client_secret: str = ""  # empty: keep the one saved
    accepted_issuers: str = ""
    creates_people: bool = False
    is_active: bool = True


FIELDS = ("agency", "name", "issuer", "client_id", "accepted_issuers", "creates_people", "is_active")


def providers_kept_by(partnership: Partnership) -> QuerySet[SignInProvider]:
    """The providers the partnership's business unit keeps."""
    return SignInProvider.objects.filter(partnership=partnership).select_related("agency")


def providers_seen_by(partnership: Partnership) -> QuerySet[SignInProvider]:
    """The providers its business unit sees: its own, and the deployment's on its agencies."""
    return SignInProvider.objects.filter(
        Q(partnership=partnership)
        | Q(partnership__isnull=True, agency__partnershipagency__partnership=partnership)
    ).select_related("agency", "partnership")


def _require_may_keep(
    *, actor: User | None, partnership: Partnership | None, agency: Agency, provider: SignInProvider | None
) -> None:
    if partnership is None or keeps_identity(actor):
        if not keeps_identity(actor):
            raise NotAllowed(_("Only the deployment's administrators keep this sign-in."))
        return
    require_business_unit(actor, partnership)
    if provider is not None and provider.partnership_id != partnership.pk:
        raise refuse(
            actor=actor,
            partnership=partnership,
            target=provider.agency,
            partnership_ids=agency_partnership_ids(provider.agency_id),
            attempted="sign_in_provider",
            words=shared_agency_words(provider.agency),
        )
    if partnership.pk not in agency_partnership_ids(agency.pk):
        raise ValidationError({"agency": _("Select one of the partnership's agencies")})
    others = agency_partnership_ids(agency.pk) - {partnership.pk}
    if others:
        raise refuse(
            actor=actor,
            partnership=partnership,
            target=agency,
            partnership_ids=others,
            attempted="sign_in_provider",
            words=shared_agency_words(agency),
        )


def sign_in_provider_save(
    *,
    actor: User | None,
    partnership: Partnership | None,
    details: ProviderDetails,
    provider: SignInProvider | None = None,
) -> SignInProvider:
    """Add an agency's provider, or change one. ``partnership`` is the business unit's own
    (the provider is then that partnership's); ``None`` is the deployment's administrators,
    who alone keep a provider of an agency that more than one partnership keeps. Its
    endpoints are read from the issuer's discovery document."""
    _require_may_keep(actor=actor, partnership=partnership, agency=details.agency, provider=provider)
    if provider is not None and provider.agency_id != details.agency.pk:
        # Its people are matched within its agency: moving it is a new provider.
        _require_may_keep(actor=actor, partnership=partnership, agency=provider.agency, provider=provider)
    creating = provider is None
    provider = provider or SignInProvider()
    before = {name: getattr(provider, name if name != "agency" else "agency_id") for name in FIELDS}
    wanted = {
        "agency": details.agency,
        "name": " ".join((details.name or "").split()),
        "issuer": (details.issuer or "").strip(),
        "client_id": (details.client_id or "").strip(),
        "accepted_issuers": details.accepted_issuers or "",
        "creates_people": details.creates_people,
        "is_active": details.is_active,
    }
    for name, value in wanted.items():
        setattr(provider, name, value)
    if details.client_secret:
        provider.client_secret = details.client_secret
    elif creating:
        raise ValidationError({"client_secret": _("Enter the client secret Accord was given")})
    keepers = agency_partnership_ids(details.agency.pk)
    provider.partnership = partnership if partnership is not None and keepers <= {partnership.pk} else None
    discover(provider)
    try:
        provider.full_clean()
    except ValidationError as error:
        raise by_field(error) from error
    changed = sorted(
        name
        for name in FIELDS
        if creating or before[name] != getattr(provider, name if name != "agency" else "agency_id")
    )
    if details.client_secret and not creating:
        changed.append("client_secret")
    with transaction.atomic():
        if provider.is_active:
            provider.awaiting_confirmation = False
        provider.save()
        audit_in_trails(
            actor=actor,
            verb=Verb.SIGN_IN_PROVIDER_ADDED if creating else Verb.SIGN_IN_PROVIDER_CHANGED,
            target=provider,
            partnership_ids=keepers,
            payload={
                "provider": provider.name,
                "agency": details.agency.name,
                "fields": changed,
                "owner": provider.partnership_id,
            },
        )
    return provider


def sign_in_provider_confirm(*, actor: User | None, provider: SignInProvider) -> SignInProvider:
    """The deployment's administrators confirm a provider that one business unit had set on an
    agency other partnerships keep too: it is the deployment's from now on, and in use."""
    if not keeps_identity(actor):
        raise NotAllowed(_("Only the deployment's administrators confirm a sign-in provider."))
    with transaction.atomic():
        provider = SignInProvider.objects.select_for_update().select_related("agency").get(pk=provider.pk)
        provider.awaiting_confirmation = False
        provider.is_active = True
        provider.partnership = None
        provider.save(update_fields=["awaiting_confirmation", "is_active", "partnership"])
        audit_in_trails(
            actor=actor,
            verb=Verb.SIGN_IN_PROVIDER_CONFIRMED,
            target=provider,
            partnership_ids=agency_partnership_ids(provider.agency_id),
            payload={"provider": provider.name, "agency": provider.agency.name, "owner": None},
        )
    return provider


def provider_trusted_by(provider: SignInProvider, person: User) -> bool:
    """Every partnership the person belongs to trusts the provider: a partnership trusts the
    providers its business unit keeps, and the deployment's on an agency it keeps."""
    if person.agency_id != provider.agency_id or not person.is_active:
        return False
    theirs = person_partnership_ids(person)
    if provider.partnership_id is not None:
        # A business unit's provider signs in its own people, never one of the deployment's
        # administrators: whoever runs it would hold the whole deployment.
        return not person.is_superuser and theirs <= {provider.partnership_id}
    return theirs <= agency_partnership_ids(provider.agency_id)


def sign_in_person_add(*, provider: SignInProvider, email: str, first_name: str, last_name: str) -> User:
    """Someone of the provider's agency not yet in Accord, added on signing in through it
    with no role, for the business unit to approve; only where the provider may add people
    for every partnership that keeps the agency."""
    keepers = agency_partnership_ids(provider.agency_id)
    trusted = keepers <= {provider.partnership_id} if provider.partnership_id is not None else True
    if not (provider.creates_people and provider.is_active and trusted and keepers):
        raise NotAllowed(_("This provider does not add people to Accord."))
    partnership = Partnership.objects.get(pk=provider.partnership_id or min(keepers))
    return person_add(
        actor=None,
        partnership=partnership,
        details=PersonDetails(
            first_name=(first_name or "")[:150],
            last_name=(last_name or "")[:150],
            email=(email or "").strip().lower(),
            agency=provider.agency,
        ),
        added_by_sign_in=provider.name,
    )
