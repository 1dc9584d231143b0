"""Every refusal tells the person what stopped them, in its own words."""

from __future__ import annotations

from broadcast.texts.refusals import refusal
from config.errors import AccessDeniedError, Refusal


def test_no_refusal_borrows_the_wrong_role_sentence() -> None:
    """A code without a sentence of its own used to read "your role does not allow that"."""
    wrong_role = refusal(Refusal.WRONG_ROLE)
    for reason in Refusal:
        said = refusal(reason)
        assert said.strip(), reason
        if reason is not Refusal.WRONG_ROLE:
            assert said != wrong_role, reason


def test_a_refusal_keeps_its_reason_beside_the_explanation_for_the_log() -> None:
    denied = AccessDeniedError(
        Refusal.NOT_YOURS, "only the member who sent a report can change it"
    )
    assert denied.reason is Refusal.NOT_YOURS
    assert refusal(denied.reason) == "Only the member who sent this alert can change it."
    assert str(AccessDeniedError(Refusal.LAST_COORDINATOR)) == "last_coordinator"
