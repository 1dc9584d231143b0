"""The words the log stores: one leaf module, so every layer can name them and none imports
another to do it.

A report event's `status` holds one of these: an `OperatorStatus` (the control room's
call, shown on every copy and sent back to the town an alert came from) or a
`ReportChange` (what the member or an operator did to the report itself).
"""

from __future__ import annotations

from enum import StrEnum


class OperatorStatus(StrEnum):
    """What the control room reports back; stored as a status event, shown on every copy."""

    ACKNOWLEDGED = "acknowledged"
    ON_CAMERA = "on_camera"
    POLICE_INFORMED = "police_informed"
    LOST = "lost"
    DETAINED = "detained"
    CLOSED = "closed"


class ReportChange(StrEnum):
    """A change to the report itself, stored as the `status` of its event."""

    STOOD_DOWN = "stood_down"
    WITHDRAWN = "withdrawn"
    RECLASSIFIED = "reclassified"
    LOCATED = "located"
    POLICE_REFERENCE = "police_reference"
    DESCRIBED = "described"
    """The member's further answers to a guided report already sent."""


OPERATOR_STATUSES = frozenset(str(status) for status in OperatorStatus)
"""The control room's calls as stored: the only events a receiving town sends back."""
ENDING_CALLS = frozenset({OperatorStatus.DETAINED.value, OperatorStatus.CLOSED.value})
"""The control room's calls that end an alert: the report is closed with them."""
