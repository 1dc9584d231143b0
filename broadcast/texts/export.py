"""Exports of the log for the police (/export, the weekly job)."""

from __future__ import annotations

from collections.abc import Iterable

EXPORT_USAGE = (
    "To export the log for the police:\n"
    "/export – last week (Monday to Sunday)\n"
    "/export 2026-11-01 2026-11-15 – the days you name (at most 92)\n"
    "/export norwich … – name the scheme if you belong to several\n"
    "/export witness … – include the reporting members' contact details (coordinators "
    "only; this is recorded)"
)


EXPORT_IN_PRIVATE = "For safety, exports are only sent in a private chat: message me directly."


EXPORT_FAILED = (
    "Sorry, the export could not be made. Nothing was sent. Please try again later; if "
    "it keeps failing, tell your administrator."
)


_EXPORT_PERIOD_PROBLEMS = {
    "not_a_date": "“{value}” is not a date. Use the form YYYY-MM-DD, e.g. 2026-11-01.",
    "reversed": "The period ends before it starts ({value}). Put the first day first.",
    "too_long": "That is {value} days: one export covers at most 92. Please split it up.",
    "usage": "Name both the first and the last day, e.g. /export 2026-11-01 2026-11-15.",
}


def export_bad_period(reason: str, value: str) -> str:
    problem = _EXPORT_PERIOD_PROBLEMS.get(reason, _EXPORT_PERIOD_PROBLEMS["usage"])
    return f"{problem.format(value=value)}\n\n{EXPORT_USAGE}"


def export_choose_scheme(slugs: Iterable[str]) -> str:
    choices = "\n".join(f"/export {slug}" for slug in slugs)
    return f"You can export more than one scheme. Which one?\n{choices}"


def export_preparing(scheme_name: str, first: str, last: str, *, witness_contact: bool) -> str:
    extra = (
        "\nThis copy includes the reporting members' contact details: keep it safe."
        if witness_contact
        else ""
    )
    return (
        f"Preparing the export of {scheme_name} for {first} to {last}. The files will "
        f"arrive here in a moment.{extra}"
    )


_EXPORT_FILE_NAMES = {
    "csv": "CSV, one row per report",
    "xlsx": "spreadsheet: reports and events",
    "pdf": "PDF with photos, timelines and grading",
    "json": "JSON for police systems",
    "manifest": "manifest: SHA-256 of every file and photo (the evidence chain)",
}


def export_caption(
    kind: str, scheme_name: str, first: str, last: str, reports: int, *, weekly: bool
) -> str:
    what = "Weekly export" if weekly else "Export"
    noun = "report" if reports == 1 else "reports"
    return (
        f"{what}, {scheme_name}, {first} to {last}: {reports} {noun}. "
        f"{_EXPORT_FILE_NAMES.get(kind, kind)}."
    )


def export_too_large(filename: str, megabytes: float) -> str:
    return (
        f"{filename} is {megabytes:.0f} MB, more than Telegram lets a bot send (50 MB). "
        "Ask your administrator to run `shopwatch export` for this period, or export "
        "fewer days at a time."
    )
