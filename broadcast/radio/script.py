"""What goes on air for an alert or a status change, and its place in the outbox.

A radio script is heard once, by someone serving a customer: the town, what
happened, who, where and which way, and the report number to find it in the
chat, in that order and nothing else. Anything that does not read aloud well
(links, @names, emoji) is left out. The wording itself lives in `broadcast.texts.radio`.

Light on purpose: the alert path imports this module, so it needs none of the
radio extra.
"""

from __future__ import annotations

import re

from broadcast.fanout import NewReport, ReportChanged
from broadcast.render import AlertView
from broadcast.texts import radio as radio_texts
from config.schemes import SchemeConfig
from config.vocabulary import Urgency
from storage.ids import stored_id
from storage.models import Report
from storage.outbox import Delivery
from storage.outbox_payloads import RadioPayload
from storage.places import members_place

RADIO_CHAT = 0
"""Outbox rows for the radio carry chat 0: the scheme's radio channel, not a Telegram chat."""

SPOKEN_STATUSES = frozenset(radio_texts.RADIO_STATUSES)
MAX_WORDS = 14

_UNSPEAKABLE = re.compile(r"https?://\S+|@\w+|#(?=\d)|[^\w\s,.'&/-]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_TOWN_SUFFIX = re.compile(r"\s*\b(shopwatch|shop watch|business watch|watch)\b\s*$", re.I)


def spoken_town(scheme: SchemeConfig) -> str:
    if scheme.radio is not None and scheme.radio.spoken_name:
        return scheme.radio.spoken_name
    return _TOWN_SUFFIX.sub("", scheme.name).strip() or scheme.name


def speakable(text: str | None, max_words: int = MAX_WORDS) -> str | None:
    """Text cut to what is worth saying on air, or None when nothing is."""
    if not text:
        return None
    cleaned = _SPACES.sub(" ", _UNSPEAKABLE.sub(" ", text)).strip(" ,.-")
    words = cleaned.split(" ")
    if len(words) > max_words:
        cleaned = " ".join(words[:max_words]).rstrip(",.")
    return cleaned or None


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def alert_script(scheme: SchemeConfig, report: Report) -> str:
    who = speakable(report.subject_description) or speakable(_first_sentence(report.description))
    heading = speakable(report.direction)
    if heading and heading.lower().startswith("heading "):
        heading = heading[len("heading ") :]
    return radio_texts.radio_alert(
        spoken_town(scheme),
        str(report.category),
        who=who,
        where=speakable(members_place(report)),
        heading=heading,
        report_id=stored_id(report),
    )


def radio_deliveries(scheme: SchemeConfig, report: Report) -> list[Delivery]:
    """The alert for the scheme's radio channel, spoken and as text, when the scheme has one.

    Only live alerts go on air: a report logged after the fact is noise on a radio.
    """
    if not scheme.radio_on or report.urgency != Urgency.NOW:
        return []
    script = alert_script(scheme, report)
    return [
        Delivery(
            chat_id=RADIO_CHAT,
            payload=RadioPayload(text=script, speak=script),
            dedupe_key=f"radio:{stored_id(report)}:alert",
        )
    ]


def radio_status_deliveries(
    scheme: SchemeConfig, report: Report, status: str, event_id: int | str = ""
) -> list[Delivery]:
    """A status change worth hearing ("detained", "stood down"); the others stay in the chat."""
    if not scheme.radio_on or status not in SPOKEN_STATUSES:
        return []
    report_id = stored_id(report)
    script = radio_texts.radio_status(spoken_town(scheme), report_id, status)
    return [
        Delivery(
            chat_id=RADIO_CHAT,
            payload=RadioPayload(text=script, speak=script),
            dedupe_key=f"radio:{report_id}:{status}:{event_id}" if event_id else None,
        )
    ]


class RadioScripts:
    """The radio as a way out for reports (`broadcast.fanout.FanOut`): the scripts above,
    queued for the schemes whose radio is on; the bridge reads them out."""

    def new_report(self, new: NewReport) -> list[Delivery]:
        return radio_deliveries(new.scheme, new.report)

    async def report_changed(self, change: ReportChanged) -> list[Delivery]:
        if not change.event.status:
            return []
        return radio_status_deliveries(change.scheme, change.report, str(change.event.status))

    async def refreshed(self, view: AlertView, scheme: SchemeConfig) -> list[Delivery]:
        """Nothing is read out again: a subject linked is no news on the air."""
        return []

    def origin_name(self, report: Report) -> str | None:
        return None

    async def reached(self, report: Report, scheme: SchemeConfig) -> list[str]:
        return []
