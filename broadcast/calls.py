"""Which of the control room's calls still apply to an alert, given the last one made.

The card offers only these buttons, and the alert service takes only these presses: a
call that already stands, or one on a closed report, would change nothing, so it is
answered and not recorded (one event, one notice). The copies an operator still has
open may show older buttons; the rule, not the button, decides.
"""

from __future__ import annotations

from config.vocabulary import OperatorStatus, ReportChange

_AFTER_DETAINED = (OperatorStatus.POLICE_INFORMED, OperatorStatus.CLOSED)
_AFTER_STOOD_DOWN = (OperatorStatus.CLOSED,)


def open_calls(current: str | None) -> tuple[OperatorStatus, ...]:
    """The calls that would change something after `current` (the latest status call on
    the report, an operator's or the member's Stood down; None for none yet)."""
    if current is None:
        return tuple(OperatorStatus)
    if current == OperatorStatus.CLOSED:
        return ()
    if current == OperatorStatus.DETAINED:
        return _AFTER_DETAINED
    if current == ReportChange.STOOD_DOWN:
        return _AFTER_STOOD_DOWN
    # Any call at all says the alert was heard: Acknowledge no longer applies.
    return tuple(
        status for status in OperatorStatus if status not in (current, OperatorStatus.ACKNOWLEDGED)
    )


def is_final(current: str | None) -> bool:
    """The report is closed for good: no call changes it any more."""
    return current is not None and not open_calls(current)
