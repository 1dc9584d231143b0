"""Norwich and Thetford again, each holding its own Ed25519 key and only the other's public key.

Neither town can sign as the other, so nothing secret is ever shared: the photo
alert crosses and the control room's call comes back as with a shared secret,
while anything signed by some other key, in the old shared-secret way, replayed
or stale is refused. Norwich passes on to Thetford only what Thetford agreed to
take; an alert that is moved into such a category reaches Thetford then, once.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.cli import main
from bot.doctor import diagnose, render
from bot.plugins.federation import FederationPlugin
from broadcast.federation import load_peers, signing
from broadcast.federation.check import describe, ping
from broadcast.federation.protocol import ALERTS_PATH, photo_path
from broadcast.federation.signing import Ed25519Keys, SharedSecret, private_key, public_key
from broadcast.texts import alerts as alert_texts
from config.errors import ConfigError
from config.schemes import parse_schemes
from config.settings import load_settings
from config.vocabulary import AuditOutcome, OutboxKind, ReportSource, Role
from storage.outbox_payloads import read_federation
from tests.test_federation import (
    NORWICH,
    SECRET,
    THEFT,
    THETFORD,
    THETFORD_CONTROL_ROOM,
    THETFORD_FILE,
    Side,
    Towns,
    an,
    copies,
    copies_in,
    jpeg_bytes,
    knock,
    log_of,
    refusals,
    running_towns,
)
from tests.town import Town

NORWICH_KEY = signing.new_ed25519_key()
THETFORD_KEY = signing.new_ed25519_key()
STRANGER_KEY = signing.new_ed25519_key()
RUCKUS = "Two drunk lads shouting and swearing at customers outside the door"

# Norwich's rule passes on every live alert; Thetford has agreed to take only two kinds.
NORWICH_FILE = """
[[scheme]]
slug = "norwich"
name = "Norwich ShopWatch"
group_chat_id = {group}
control_room_chat_id = {control_room}
coordinators = [700001]

  [[scheme.neighbour]]
  slug = "thetford"

[[peer]]
slug = "thetford"
name = "Thetford ShopWatch"
url = "http://127.0.0.1:{peer_port}/"
allow_private_address = true   # both towns on this machine
{keys}
sends = ["theft", "violence"]
receives = ["theft", "violence"]
photos = true
"""


def public(private: str) -> str:
    return signing.public_key_text(private_key(private))


def signed_by(private: str) -> Ed25519Keys:
    """Keys that sign as the holder of `private` (the public half is not used to sign)."""
    return Ed25519Keys(private_key(private), public_key(public(private)))


@pytest.fixture
async def towns(tmp_path: Path) -> AsyncIterator[Towns]:
    norwich = Side(NORWICH_FILE, f'public_key = "{public(THETFORD_KEY)}"', NORWICH_KEY)
    thetford = Side(THETFORD_FILE, f'public_key = "{public(NORWICH_KEY)}"', THETFORD_KEY)
    async with running_towns(tmp_path, norwich, thetford) as both:
        yield both


async def a_member_and_an_operator(towns: Towns) -> tuple[Any, Any]:
    alice = towns.norwich.person(5_000_000_101, "Alice")
    await towns.norwich.join(alice, shop="Boots", street="Haymarket")
    dave = towns.thetford.person(5_000_000_202, "Dave")
    await towns.thetford.join(dave, Role.OPERATOR, scheme="thetford")
    towns.thetford.control_room.add_member(dave)
    return alice, dave


async def fetch(town: Town, sha256: str, keys: signing.PeerKeys) -> tuple[int, bytes]:
    path = photo_path(sha256)
    headers = signing.sign(keys, "thetford", "GET", path, recipient=town.schemes.schemes[0].slug)
    url = f"http://127.0.0.1:{town.runtime.port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.read()


# --- the story, with keys ------------------------------------------------------------------


async def test_with_keys_a_photo_alert_crosses_and_the_control_rooms_call_comes_back(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice, dave = await a_member_and_an_operator(towns)

    await alice.send_photo(norwich.bot, jpeg_bytes(), caption=THEFT)

    received = await copies(thetford, THETFORD)
    assert all(copy.photo is not None for copy in received.values()), "the photo came too"
    (report,) = await log_of(thetford, "thetford")
    assert (report.source, report.origin_scheme) == (ReportSource.FEDERATION, "norwich")

    await dave.press(received[THETFORD_CONTROL_ROOM], "On camera")

    def every_norwich_copy_says_on_camera() -> bool:
        shown = [copies_in(norwich, chat) for chat in NORWICH]
        return all(
            s and "Status: On camera (Dave, Thetford ShopWatch" in s[-1].body for s in shown
        )

    assert await norwich.sandbox.wait_for(
        every_norwich_copy_says_on_camera, message="Norwich's copies saying On camera"
    )

    (sent,) = await log_of(norwich, "norwich")
    assert sent.id is not None
    (photo,) = await norwich.runtime.store.reports.photos(sent.id)
    answer, _ = await fetch(norwich, photo.sha256, signed_by(STRANGER_KEY))
    assert answer == 401, "a photo asked for with someone else's key"
    answer, data = await fetch(norwich, photo.sha256, signed_by(THETFORD_KEY))
    assert answer == 200
    assert hashlib.sha256(data).hexdigest() == photo.sha256


async def test_check_with_keys_says_the_peer_holds_our_public_key(towns: Towns) -> None:
    federation = towns.norwich.runtime.plugin(FederationPlugin)
    assert federation is not None
    link = federation.link
    peer = link.peers["thetford"]

    result = await ping(peer, "norwich")

    assert result.ok, describe(peer, result)
    assert "it holds our public key" in describe(peer, result)
    someone_else = type(peer)(peer.config, signed_by(STRANGER_KEY))
    refused = await ping(someone_else, "norwich")
    assert not refused.ok
    assert "bad signature" in describe(someone_else, refused)


# --- the forger, against keys ---------------------------------------------------------------


async def test_with_keys_forged_shared_secret_replayed_and_stale_alerts_are_refused(
    towns: Towns,
) -> None:
    thetford = towns.thetford
    norwich_keys = signed_by(NORWICH_KEY)
    good = an(9401)
    accepted, _ = await knock(thetford, good, secret=norwich_keys, key="norwich:9401")
    assert accepted == 201
    before = await log_of(thetford, "thetford")

    cases: list[tuple[str, int, dict[str, Any], bytes]] = [
        ("signed by another key", 401,
         {"secret": signed_by(STRANGER_KEY), "key": "norwich:9402"}, an(9402)),
        ("signed with Thetford's own key", 401,
         {"secret": signed_by(THETFORD_KEY), "key": "norwich:9403"}, an(9403)),
        ("signed the shared-secret way", 401,
         {"secret": SharedSecret(SecretStr(SECRET)), "key": "norwich:9404"}, an(9404)),
        ("replayed", 409, {"secret": norwich_keys, "key": "norwich:9401"}, good),
        ("stale", 401,
         {"secret": norwich_keys, "key": "norwich:9405", "sent_at": time.time() - 600},
         an(9405)),
    ]  # fmt: skip
    for what, status, how, body in cases:
        answer, said = await knock(thetford, body, **how)
        assert answer == status, f"{what}: {answer} {said}"

    assert await log_of(thetford, "thetford") == before, "nothing stored"
    refused = await refusals(thetford)
    assert all(e.outcome == AuditOutcome.REFUSED for e in refused)
    # Unauthenticated refusals (401) are audited once per reason a minute: anyone can send
    # them. The three bad signatures here are one entry.
    assert sorted((int(e.detail["status"]), e.detail["reason"]) for e in refused) == [
        (401, "bad signature"),
        (401, "stale"),
        (409, "already received"),
    ]


# --- only what Thetford agreed to take ------------------------------------------------------


async def test_an_alert_moved_into_a_category_the_other_town_takes_reaches_it_then_once(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice, dave = await a_member_and_an_operator(towns)

    await alice.send(norwich.bot, f"/alert {RUCKUS}")

    confirmation = await alice.next_reply(norwich.bot)
    assert "Thetford" not in confirmation.body, "Thetford does not take anti-social behaviour"
    await copies(norwich, NORWICH)
    (sent,) = await log_of(norwich, "norwich")
    assert sent.id is not None
    assert sent.category == "asb"
    assert await norwich.runtime.store.outbox.for_report(sent.id, kind=OutboxKind.FEDERATION) == []

    await alice.press(confirmation, alert_texts.category_to_change("asb"))
    await alice.press(norwich.sandbox.refresh(confirmation), alert_texts.CATEGORY_BUTTONS["theft"])

    received = await copies(thetford, THETFORD)
    assert all(RUCKUS in copy.body for copy in received.values())
    (arrived,) = await log_of(thetford, "thetford")
    assert arrived.category == "theft"

    await dave.press(received[THETFORD_CONTROL_ROOM], "On camera")
    await alice.press(
        norwich.sandbox.refresh(confirmation), alert_texts.category_to_change("theft")
    )
    await alice.press(
        norwich.sandbox.refresh(confirmation), alert_texts.CATEGORY_BUTTONS["violence"]
    )

    def norwich_says_on_camera() -> bool:
        return all("On camera (Dave" in copies_in(norwich, chat)[-1].body for chat in NORWICH)

    def thetford_says_violence() -> bool:
        return all("Violence or abuse" in copies_in(thetford, chat)[-1].body for chat in THETFORD)

    assert await norwich.sandbox.wait_for(norwich_says_on_camera, message="the call, back")
    assert await thetford.sandbox.wait_for(thetford_says_violence, message="the new category")
    (moved,) = await log_of(thetford, "thetford")
    assert moved.category == "violence", "the same report, not a second one"
    for chat in THETFORD:
        posted = [
            m
            for m in thetford.sandbox.chat_messages(thetford.bot, chat)
            if m.from_bot and "Report #" in m.body
        ]
        assert len(posted) == 1, "one copy in each chat, ever"
    outgoing = await norwich.runtime.store.outbox.for_report(sent.id, kind=OutboxKind.FEDERATION)
    assert [read_federation(row).op for row in outgoing].count("alert") == 1

    await alice.press(
        norwich.sandbox.refresh(confirmation), alert_texts.category_to_change("violence")
    )
    await alice.press(norwich.sandbox.refresh(confirmation), alert_texts.CATEGORY_BUTTONS["asb"])

    (kept,) = await log_of(thetford, "thetford")
    assert kept.id is not None
    # Kept in the chat to say there is nothing to act on: a change back is an edit, not a
    # second alert ringing every phone.
    stood_down = alert_texts.alert_not_for_this_chat(kept.id, "Norwich ShopWatch", logged=True)

    def said_so() -> bool:
        shown = [copies_in(thetford, chat) for chat in THETFORD]
        return all(len(s) == 1 and s[0].body == stood_down for s in shown)

    assert await thetford.sandbox.wait_for(said_so, message="Thetford's copies saying so")
    (kept,) = await log_of(thetford, "thetford")
    assert (kept.category, kept.urgency) == ("violence", "log"), "not withdrawn from its log"


# --- setting up keys --------------------------------------------------------------------------


def test_keygen_writes_the_private_key_to_a_new_file_only_we_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "federation.env"

    assert main(["federation", "keygen", "--ed25519", "--out", str(out)]) == 0

    variable, _, private = out.read_text(encoding="utf-8").strip().partition("=")
    assert variable == "SHOPWATCH_FEDERATION_PRIVATE_KEY"
    assert os.stat(out).st_mode & 0o777 == 0o600
    printed = capsys.readouterr().out
    assert private not in printed, "the private key stays in the file"
    assert f'public_key = "{public(private)}"' in printed
    assert main(["federation", "keygen", "--ed25519", "--out", str(out)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8").strip().endswith(private)


def test_keygen_prints_a_key_pair_for_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["federation", "keygen", "--ed25519"]) == 0

    first, second = capsys.readouterr().out.splitlines()
    private = first.removeprefix("SHOPWATCH_FEDERATION_PRIVATE_KEY=")
    assert private != first
    assert second.startswith(f'public_key = "{public(private)}"')


PEER = """[[scheme]]
slug = "norwich"
name = "Norwich ShopWatch"
group_chat_id = -1002000000001
control_room_chat_id = -1002000000002

[[peer]]
slug = "thetford"
url = "https://shopwatch.thetford.example/"
{keys}
"""


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ('public_key = "not a key at all!"', "peer[0].public_key: not base64"),
        ('public_key = "c2hvcnQ="', "peer[0].public_key: an Ed25519 key is 32 bytes"),
        (
            f'secret_env = "SHOPWATCH_PEER_THETFORD_SECRET"\npublic_key = "{public(NORWICH_KEY)}"',
            "peer[0].public_key: give secret_env or public_key, not both",
        ),
        ("", "peer[0]: needs secret_env (a shared secret) or public_key"),
    ],
)
def test_a_bad_peer_key_names_its_line(keys: str, problem: str) -> None:
    text = PEER.format(keys=keys)
    lines = text.splitlines()
    key_line = next((n for n, line in enumerate(lines, 1) if "public_key" in line), None)
    line = key_line or lines.index("[[peer]]") + 1

    with pytest.raises(ConfigError) as error:
        parse_schemes(text, "schemes.toml")

    assert str(error.value).startswith(f"schemes.toml:{line}: {problem}")


def test_our_private_key_must_be_a_key_and_is_needed_by_a_peer_known_by_key() -> None:
    with pytest.raises(ConfigError, match=r"^SHOPWATCH_FEDERATION_PRIVATE_KEY: an Ed25519 key"):
        load_settings(federation_private_key="c2hvcnQ=")
    schemes = parse_schemes(PEER.format(keys=f'public_key = "{public(THETFORD_KEY)}"'))
    with pytest.raises(ConfigError, match="SHOPWATCH_FEDERATION_PRIVATE_KEY must hold ours"):
        load_peers(schemes)
    peers = load_peers(schemes, SecretStr(NORWICH_KEY))
    assert NORWICH_KEY not in repr(peers), "the private key is never shown"


ELY = """
[[peer]]
slug = "ely"
url = "https://shopwatch.ely.example/"
secret_env = "SHOPWATCH_PEER_ELY_SECRET"
"""


def status_of(report: str, check: str) -> str:
    """The OK/FAIL of one of the doctor's checks, from its report."""
    return next(line[:4].strip() for line in report.splitlines() if line[6:].startswith(check))


async def test_doctor_checks_each_peer_has_its_secret_or_our_private_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemes = tmp_path / "schemes.toml"
    schemes.write_text(PEER.format(keys=f'public_key = "{public(THETFORD_KEY)}"') + ELY)
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("SHOPWATCH_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SHOPWATCH_SCHEMES_FILE", str(schemes))
    monkeypatch.setenv("SHOPWATCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("SHOPWATCH_DATA_DIR", str(tmp_path / "data"))

    report = render(await diagnose())

    assert (status_of(report, "peer thetford"), status_of(report, "peer ely")) == ("FAIL", "FAIL")
    assert "shopwatch federation keygen --ed25519" in report
    assert "SHOPWATCH_PEER_ELY_SECRET is not set" in report

    monkeypatch.setenv("SHOPWATCH_FEDERATION_PRIVATE_KEY", NORWICH_KEY)
    monkeypatch.setenv("SHOPWATCH_PEER_ELY_SECRET", SECRET)
    report = render(await diagnose())

    assert (status_of(report, "peer thetford"), status_of(report, "peer ely")) == ("OK", "OK")
    assert f"ours is {public(NORWICH_KEY)}" in report, "the public key to give to Thetford"
    assert NORWICH_KEY not in report
    assert SECRET not in report


# --- what the signature names: the recipient, and the old format's window ------------------


async def test_a_request_norwich_signed_for_another_neighbour_is_refused_by_thetford(
    towns: Towns,
) -> None:
    """Norwich signs for all its neighbours with one key. A stood-down it sent Ely about an
    alert both towns had, replayed to Thetford within the five minutes, is not Thetford's."""
    thetford = towns.thetford
    norwich_keys = signed_by(NORWICH_KEY)
    answer, said = await knock(thetford, an(9450), secret=norwich_keys, key="norwich:9450")
    assert answer == 201, said
    path = "/federation/v1/alerts/9450/events"
    stood_down = {"origin": "norwich", "id": 9450, "kind": "status", "status": "stood_down"}
    body = json.dumps(stood_down | {"changes": {"status": "closed"}}).encode()

    answer, said = await knock(
        thetford, body, secret=norwich_keys, key="e:1", path=path, recipient="ely"
    )

    assert answer == 401, said
    assert said["error"] == "signed for another recipient"
    [report] = await log_of(thetford, "thetford")
    assert report.id is not None
    assert await thetford.runtime.store.reports.events(report.id) == []
    answer, said = await knock(thetford, body, secret=norwich_keys, key="e:2", path=path)
    assert answer == 201, "the same call, signed for Thetford"


TODAY = datetime.now(UTC).date()


def old_format_only(headers: dict[str, str]) -> dict[str, str]:
    """What a peer that has not upgraded sends: the first format's signature alone."""
    return {
        name: value
        for name, value in headers.items()
        if name not in (signing.SIGNATURE_HEADER, signing.RECIPIENT_HEADER)
    }


@pytest.mark.parametrize(
    ("until", "taken"),
    [(TODAY + timedelta(days=1), True), (TODAY - timedelta(days=1), False)],
    ids=["window open", "window closed"],
)
async def test_the_old_signature_format_is_taken_only_in_its_migration_window(
    tmp_path: Path, until: date, taken: bool
) -> None:
    window = {"federation_old_signatures_until": until}
    norwich = Side(NORWICH_FILE, f'public_key = "{public(THETFORD_KEY)}"', NORWICH_KEY, window)
    thetford = Side(THETFORD_FILE, f'public_key = "{public(NORWICH_KEY)}"', THETFORD_KEY, window)
    async with running_towns(tmp_path, norwich, thetford) as towns:
        body = an(9460)

        def signed(old_until: date) -> dict[str, str]:
            return signing.sign(
                signed_by(NORWICH_KEY), "norwich", "POST", ALERTS_PATH, body,
                recipient="thetford", key="norwich:9460", old_until=old_until,
            )  # fmt: skip

        assert (signing.OLD_SIGNATURE_HEADER in signed(until)) is taken, "sent in the window"
        # A peer that has not upgraded signs the old way whatever our window says.
        headers = signed(TODAY)
        url = f"http://127.0.0.1:{towns.thetford.runtime.port}{ALERTS_PATH}"
        sent = old_format_only(headers) | {"Content-Type": "application/json"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=sent) as response,
        ):
            answer, said = response.status, await response.json()

        if taken:
            assert answer == 201, said
            assert len(await log_of(towns.thetford, "thetford")) == 1
        else:
            assert answer == 401
            assert said["error"] == (
                f"signature in the old format, not taken after {until.isoformat()}: "
                "the sender must upgrade"
            )
            assert await log_of(towns.thetford, "thetford") == []
