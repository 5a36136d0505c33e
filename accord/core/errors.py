"""The errors Accord's domain services raise, shared by pages, the API and commands."""

from django.core.exceptions import PermissionDenied, ValidationError


class DomainError(Exception):
    """Base class for refusals by a domain service."""


class NotAllowed(DomainError):
    """The user may see the record but may not take this action."""


class IllegalTransition(NotAllowed):
    """The user could take this action, but not from the escalation's current state."""


class Refused(PermissionDenied):
    """A page's 403 whose message is written for the person refused (shown on the page)."""


class NotFound(DomainError):
    """The record does not exist or the user may not see it (the two are never told apart)."""


class StaleVersion(DomainError):
    """The record changed since the user loaded it; nothing was changed."""


class ImmediateDanger(DomainError):
    """A child may be in immediate danger: Accord is not the route, and nothing is stored."""


class TooMany(DomainError):
    """The user did this too often in too short a time; nothing was changed. They may try
    again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RuleViolation(ValidationError):
    """A rule of the protocol forbids the change (answered 422 by the API).

    ``rule`` names the rule (for example ``consult_first``), whatever the shape of the message.
    """

    def __init__(self, message, code: str | None = None, params=None) -> None:
        super().__init__(message, code, params)
        self.rule = code
