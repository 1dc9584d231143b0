"""What a quick alert is guessed to be, and how its card reads on a phone: tables, no bot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broadcast.callbacks import CallbackSigner
from broadcast.keywords import DEFAULT_CATEGORY, guess_category
from broadcast.render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    AlertView,
    StatusMark,
    UpdateMark,
    alert_card,
    confirmation,
    confirmation_buttons,
    utf16_len,
)
from broadcast.routing import Audience
from broadcast.search_cards import report_card
from broadcast.texts import report as report_texts
from config.vocabulary import Category, ReportStatus, Urgency
from storage.models import Report
from storage.search import ReportFile

SIGNER = CallbackSigner(b"a test key of sixteen bytes or more")
AT = datetime(2026, 7, 3, 13, 35, tzinfo=UTC)  # 14:35 in Norwich (BST)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # from bench/data/sightings.tsv
        ("Male 30s, grey hoodie, took 6 packs of razor blades, heading to Haymarket", "theft"),
        ("Two females filled a bag with perfume testers and left towards London St", "theft"),
        ("Male, red cap, concealed two bottles of vodka in his trousers", "theft"),
        ("Same man as last week, pocketing phone chargers, now on Castle Street", "theft"),
        ("Shoplifter with a pram, hiding baby formula under the blanket", "theft"),
        ("Male on a black e-bike grabbed headphones from the display", "theft"),
        ("Stock check shows 14 electric toothbrushes missing since Saturday", "theft"),
        ("Returned to find the charity box by the till was taken, about £30", "theft"),
        ("Three youths hanging round the door, black balaclava in his pocket", "suspicious"),
        ("Man in a hi-vis vest asking staff about alarm times, no ID", "suspicious"),
        ("Same car circling the market three times, silver Ford Focus", "suspicious"),
        ("Female photographing the shop layout and the stock room door", "suspicious"),
        ("Refused service for being drunk, threatened staff with a bottle", "violence"),
        ("Staff member pushed over at the till by a female, pink coat", "violence"),
        ("Verbal abuse and spitting at our security guard this morning", "violence"),
        ("Man with a knife seen in his waistband in the queue", "violence"),
        ("Group of 5 teenagers throwing food at customers outside the bakery", "asb"),
        ("Beggar sleeping in our doorway again overnight, left rubbish", "asb"),
        ("Drunk male shouting at customers and blocking the entrance", "asb"),
        ("Woman trying to pay with a £50 note that feels wrong, we refused", "fraud"),
        ("Distraction pair: one asks about a phone contract, the other reaches behind", "fraud"),
        ("Refund fraud: receipt from another branch used to return stolen items", "fraud"),
        ("Man asking for change repeatedly to confuse the cashier", "fraud"),
        ("Window kicked and cracked by a male in a Norwich City shirt", "damage"),
        ("Graffiti tag on the shutter overnight, same tag as on Elm Hill", "damage"),
        # words alone are not enough
        ("This man again, grey coat, see photo", DEFAULT_CATEGORY),
        ("White t-shirt, jeans, heading to the Lanes", DEFAULT_CATEGORY),
        ("TOOK a bottle of GIN", "theft"),
    ],
)
def test_a_quick_alert_is_guessed_from_its_words(text: str, category: str) -> None:
    assert guess_category(text) == category


def report(**fields: object) -> Report:
    values: dict[str, object] = {
        "id": 123,
        "scheme_id": 1,
        "category": Category.THEFT,
        "urgency": Urgency.NOW,
        "description": "Male 30s, grey hoodie, took razor blades, heading to Haymarket",
        "location_text": "Boots, Haymarket",
        "created_at": AT,
        "occurred_at": AT,
        **fields,
    }
    return Report.model_validate(values)


def card(view: AlertView, audience: Audience = Audience.GROUP, *, photo: bool = True) -> str:
    return alert_card(
        view, audience, timezone="Europe/London", has_photo=photo, signer=SIGNER
    ).text


def test_a_card_says_what_where_when_which_report_and_the_latest_status() -> None:
    view = AlertView(
        report(),
        "Norwich ShopWatch",
        StatusMark("on_camera", "Dave", AT),
        UpdateMark("left towards Market St", AT),
    )

    assert card(view).splitlines() == [
        "🚨 Theft – happening now",
        "Male 30s, grey hoodie, took razor blades, heading to Haymarket",
        "Where: Boots, Haymarket",
        "When: 3 Jul 2026, 14:35",
        "Report #123 · Norwich ShopWatch",
        "Status: On camera (Dave, 14:35)",
        "Update 14:35: left towards Market St",
    ]
    assert "Report #123 from Norwich ShopWatch, a neighbouring scheme" in card(
        view, Audience.NEIGHBOUR_GROUP
    )


def test_only_the_schemes_own_control_room_gets_the_operators_buttons() -> None:
    view = AlertView(report(), "Norwich ShopWatch")
    labels = {
        audience: [
            label
            for row in alert_card(
                view, audience, timezone="UTC", has_photo=False, signer=SIGNER
            ).buttons
            for label, _ in row
        ]
        for audience in Audience
    }

    assert labels[Audience.CONTROL_ROOM] == [
        "Acknowledge",
        "On camera",
        "Police informed",
        "Lost",
        "Detained",
        "Closed",
        "New subject",
    ]
    assert labels[Audience.GROUP] == labels[Audience.NEIGHBOUR_CONTROL_ROOM] == []


@pytest.mark.parametrize(("photo", "limit"), [(True, CAPTION_LIMIT), (False, TEXT_LIMIT)])
def test_a_long_description_gives_way_and_the_lines_people_act_on_stay(
    photo: bool, limit: int
) -> None:
    long = "Tall male, 👟 white trainers, " * 400  # emoji count twice in Telegram's limit
    view = AlertView(
        report(description=long, location_text="Boots, " * 100),
        "Norwich ShopWatch",
        update=UpdateMark("went " * 500, AT),
    )

    text = card(view, photo=photo)

    assert utf16_len(text) <= limit
    lines = text.splitlines()
    assert lines[1].startswith("Tall male")
    assert lines[1].endswith("…")
    assert lines[3:6] == [
        "When: 3 Jul 2026, 14:35",
        "Report #123 · Norwich ShopWatch",
        "Status: waiting for the control room",
    ]
    assert lines[6].startswith("Update 14:35: went")
    assert lines[6].endswith("…")


def test_a_withdrawn_card_drops_the_description_and_the_buttons() -> None:
    view = AlertView(report(status=ReportStatus.WITHDRAWN), "Norwich ShopWatch")

    shown = alert_card(view, Audience.CONTROL_ROOM, timezone="UTC", has_photo=True, signer=SIGNER)

    assert shown.text.startswith("WITHDRAWN: Theft – please disregard this alert")
    assert "grey hoodie" not in shown.text
    assert shown.buttons == ()


def test_the_confirmation_marks_the_guess_and_offers_the_rest() -> None:
    shown = confirmation(
        report(), shops=12, neighbours=["Wymondham Business Watch"], signer=SIGNER
    )

    assert shown.text.startswith(
        "Alert sent to 12 shops, the control room and Wymondham Business Watch. Report #123."
    )
    labels = [[label for label, _ in row] for row in shown.buttons]
    assert labels == [["Theft · Change"], ["Log only", "Stood down / Wrong person"]]
    inside = confirmation_buttons(report(), SIGNER, "change")
    assert [[label for label, _ in row] for row in inside] == [
        ["✓ Theft", "Suspicious", "Violence", "ASB"],
        ["Fraud", "Damage", "Other"],
        ["Add update", "◀ Back"],
    ]
    ending = confirmation_buttons(report(), SIGNER, "ending")
    assert [[label for label, _ in row] for row in ending] == [
        ["Stood down", "Wrong person"],
        ["◀ Back"],
    ]
    assert all(SIGNER.verify(data) for row in shown.buttons for _, data in row)


@pytest.mark.parametrize(
    ("pence", "written"), [(6000, "£60"), (6050, "£60.50"), (120050, "£1,200.50"), (5, "£0.05")]
)
def test_an_amount_reads_the_same_on_the_alert_the_summary_and_the_opened_report(
    pence: int, written: str
) -> None:
    """The card, the guided report's summary and /show once wrote £1,200.50 as £1200.50."""
    lost = report(value_pence=pence)
    summary = report_texts.report_summary(
        what="Theft",
        urgency="now",
        when=None,
        description=lost.description,
        subject=None,
        direction=None,
        taken=None,
        value_pence=pence,
        cctv=None,
        statement=None,
        police_reference=None,
        photos=0,
    )
    opened = report_card(ReportFile(lost, None, [], []), "Europe/London")
    for text in (card(AlertView(lost, "Norwich ShopWatch")), summary, opened):
        assert f"Value: {written}" in text.splitlines()


def test_a_moment_reads_the_same_on_the_alert_and_the_opened_report() -> None:
    seen = report()
    opened = report_card(ReportFile(seen, None, [], []), "Europe/London")
    assert "When: 3 Jul 2026, 14:35" in card(AlertView(seen, "Norwich ShopWatch")).splitlines()
    assert "Seen: 3 Jul 2026, 14:35" in opened.splitlines()
