"""Two towns on two deployments: Norwich and Thetford each run their own bot and log.

Alice (a shop in Norwich) sends a photo alert; Norwich's bot passes it, signed,
to Thetford's, which posts it to Thetford's group and control room with the
photo; Dave in Thetford's control room taps On camera and Norwich's copies say
so. Then a forger knocks on Thetford's door in every way the issue lists, each
refused with the right status and nothing stored; and Thetford's server goes
down for a while, and gets Alice's alert once it is back, exactly once.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image
from pydantic import SecretStr

from bot.cli import main
from bot.runtime import BotRuntime
from broadcast.federation import Peer, load_peers, signing
from broadcast.federation.check import describe, ping, sender_for
from broadcast.federation.protocol import ALERTS_PATH
from broadcast.federation.signing import PeerKeys, SharedSecret
from broadcast.texts import alerts as alert_texts
from config.schemes import SchemesFile, load_schemes
from config.vocabulary import (
    AuditOutcome,
    OutboxKind,
    OutboxState,
    ReportSource,
    ReportStatus,
    Role,
)
from sandbox import BotApiSandbox, MessageView, SandboxLimits
from storage.models import AuditEntry, Report, utcnow
from storage.outbox_payloads import read_federation
from tests.town import Town, listening_socket, port_of, town_settings

SECRET = "a-shared-secret-for-norwich-and-thetford"
SHARED = SharedSecret(SecretStr(SECRET))
NORWICH_TOKEN = "5550011:sandbox-token-norwich-bot"
THETFORD_TOKEN = "5550022:sandbox-token-thetford-bot"
NORWICH_GROUP, NORWICH_CONTROL_ROOM = -1002000000001, -1002000000002
THETFORD_GROUP, THETFORD_CONTROL_ROOM = -1002000000011, -1002000000012
NORWICH = (NORWICH_GROUP, NORWICH_CONTROL_ROOM)
THETFORD = (THETFORD_GROUP, THETFORD_CONTROL_ROOM)
THEFT = "Male 30s, grey hoodie, took 6 packs of razor blades, heading for the A11 to Thetford"

NORWICH_FILE = """
[[scheme]]
slug = "norwich"
name = "Norwich ShopWatch"
group_chat_id = {group}
control_room_chat_id = {control_room}
coordinators = [700001]

  [[scheme.neighbour]]
  slug = "thetford"
  categories = ["theft", "violence", "fraud"]

[[peer]]
slug = "thetford"
name = "Thetford ShopWatch"
url = "http://127.0.0.1:{peer_port}/"
allow_private_address = true   # both towns on this machine
{keys}
sends = ["theft", "violence"]
receives = ["theft", "violence", "fraud"]   # Thetford has not agreed to fraud: see below
photos = true
"""

THETFORD_FILE = """
[[scheme]]
slug = "thetford"
name = "Thetford ShopWatch"
group_chat_id = {group}
control_room_chat_id = {control_room}
coordinators = [700002]

  [[scheme.neighbour]]                      # the agreement that lets Norwich's alerts in
  slug = "norwich"
  categories = ["theft", "violence"]

[[peer]]
slug = "norwich"
name = "Norwich ShopWatch"
url = "http://127.0.0.1:{peer_port}"
allow_private_address = true   # both towns on this machine
{keys}
sends = ["theft", "violence"]
receives = ["theft", "violence"]
photos = true
"""


@dataclass
class Towns:
    norwich: Town
    thetford: Town


def _schemes(
    tmp_path: Path, name: str, template: str, **values: object
) -> tuple[Path, SchemesFile]:
    path = tmp_path / f"{name}.toml"
    path.write_text(template.format(**values), encoding="utf-8")
    return path, load_schemes(path)


@dataclass(frozen=True)
class Side:
    """How one town's schemes file names the other, and the town's own private key if any."""

    template: str
    keys: str
    private_key: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


SHARED_NORWICH = Side(NORWICH_FILE, 'secret_env = "SHOPWATCH_PEER_THETFORD_SECRET"')
SHARED_THETFORD = Side(THETFORD_FILE, 'secret_env = "SHOPWATCH_PEER_NORWICH_SECRET"')


@asynccontextmanager
async def running_towns(
    tmp_path: Path, norwich_side: Side, thetford_side: Side
) -> AsyncIterator[Towns]:
    """Norwich and Thetford: one sandbox, two bots, two logs, two web servers."""
    # Each town's address is in the other's schemes file before either starts: the
    # sockets are bound now and handed to the bots' web servers.
    norwich_socket, thetford_socket = listening_socket(), listening_socket()
    norwich_port, thetford_port = port_of(norwich_socket), port_of(thetford_socket)
    norwich_file, norwich_schemes = _schemes(
        tmp_path, "norwich", norwich_side.template, group=NORWICH_GROUP,
        control_room=NORWICH_CONTROL_ROOM, peer_port=thetford_port, keys=norwich_side.keys,
    )  # fmt: skip
    thetford_file, thetford_schemes = _schemes(
        tmp_path, "thetford", thetford_side.template, group=THETFORD_GROUP,
        control_room=THETFORD_CONTROL_ROOM, peer_port=norwich_port, keys=thetford_side.keys,
    )  # fmt: skip
    async with BotApiSandbox(limits=SandboxLimits.off()) as sandbox:
        towns: list[Town] = []
        plans = (
            (NORWICH_TOKEN, "norwich", norwich_schemes, norwich_file, norwich_socket, NORWICH,
             norwich_side),
            (THETFORD_TOKEN, "thetford", thetford_schemes, thetford_file, thetford_socket,
             THETFORD, thetford_side),
        )  # fmt: skip
        for token, name, schemes, file, listen, (group, control_room), side in plans:
            bot = sandbox.add_bot(token, f"shopwatch_{name}_bot", "ShopWatch")
            config = schemes.scheme(name)
            carer = sandbox.user(config.coordinators[0], f"Coordinator of {config.name}")
            chats = (
                sandbox.group(group, config.name, members=[carer], bots=[bot]),
                sandbox.group(control_room, f"{config.name} control room", bots=[bot]),
            )
            settings = town_settings(
                sandbox,
                tmp_path / name,
                bot_token=token,
                schemes_file=file,
                listen_port=port_of(listen),
                federation_private_key=side.private_key,
                **side.settings,
            )
            runtime = BotRuntime(settings, schemes, listen_socket=listen)
            await runtime.start()
            towns.append(Town(sandbox, bot, runtime, schemes, carer, *chats))
        try:
            yield Towns(*towns)
        finally:
            for town in towns:
                await town.runtime.stop()


@pytest.fixture
async def towns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Towns]:
    """The two towns sharing a secret."""
    monkeypatch.setenv("SHOPWATCH_PEER_THETFORD_SECRET", SECRET)
    monkeypatch.setenv("SHOPWATCH_PEER_NORWICH_SECRET", SECRET)
    async with running_towns(tmp_path, SHARED_NORWICH, SHARED_THETFORD) as both:
        yield both


# --- reading the chats and the logs ------------------------------------------------------


def copies_in(town: Town, chat_id: int) -> list[MessageView]:
    return [
        m
        for m in town.sandbox.chat_messages(town.bot, chat_id)
        if m.from_bot and not m.deleted and "Report #" in m.body
    ]


async def copies(town: Town, chats: tuple[int, ...]) -> dict[int, MessageView]:
    def arrived() -> dict[int, MessageView] | None:
        found = {chat: copies_in(town, chat) for chat in chats}
        return {c: s[-1] for c, s in found.items()} if all(found.values()) else None

    return await town.sandbox.wait_for(arrived, message=f"copies in {chats}")


async def log_of(town: Town, slug: str) -> list[Report]:
    scheme = await town.runtime.store.schemes.get_by_slug(slug)
    assert scheme.id is not None
    return await town.runtime.store.reports.recent(scheme.id)


def jpeg_bytes() -> bytes:
    """A grainy CCTV-like still: hundreds of kilobytes, so it crosses in many chunks."""
    image = Image.merge("RGB", [Image.effect_noise((1200, 900), 60)] * 3)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


# --- the story --------------------------------------------------------------------------


async def test_a_photo_alert_crosses_to_the_next_town_and_its_control_room_answers(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice = norwich.person(5_000_000_101, "Alice")
    await norwich.join(alice, shop="Boots", street="Haymarket")
    dave = thetford.person(5_000_000_202, "Dave")
    await thetford.join(dave, Role.OPERATOR, scheme="thetford")
    thetford.control_room.add_member(dave)

    await alice.send_photo(norwich.bot, jpeg_bytes(), caption=THEFT)

    confirmation = await alice.next_reply(norwich.bot)
    assert "the control room and Thetford ShopWatch" in confirmation.body
    received = await copies(thetford, THETFORD)
    for copy in received.values():
        assert THEFT in copy.body
        assert "from Norwich ShopWatch" in copy.body
        assert copy.photo is not None, "the photo came too"
    assert "On camera" in received[THETFORD_CONTROL_ROOM].button_texts
    (report,) = await log_of(thetford, "thetford")
    assert (report.source, report.origin_scheme) == (ReportSource.FEDERATION, "norwich")
    # The other town's police export it: the street, never the reporting shop's name.
    assert report.location_text == "Haymarket (at the reporting shop)"
    assert report.member_id is None

    await dave.press(received[THETFORD_CONTROL_ROOM], "On camera")

    def every_norwich_copy_says_on_camera() -> bool:
        shown = [copies_in(norwich, chat) for chat in NORWICH]
        return all(
            s and "Status: On camera (Dave, Thetford ShopWatch" in s[-1].body for s in shown
        )

    assert await norwich.sandbox.wait_for(
        every_norwich_copy_says_on_camera, message="Norwich's copies saying On camera"
    )

    await alice.press(confirmation, alert_texts.BUTTON_ENDING)
    await alice.press(norwich.sandbox.refresh(confirmation), alert_texts.BUTTON_STAND_DOWN)

    def every_thetford_copy_is_stood_down() -> bool:
        shown = [copies_in(thetford, chat) for chat in THETFORD]
        return all(s and s[-1].body.startswith("Theft – stood down") for s in shown)

    assert await thetford.sandbox.wait_for(
        every_thetford_copy_is_stood_down, message="Thetford's copies saying stood down"
    )
    (closed,) = await log_of(thetford, "thetford")
    assert closed.status == ReportStatus.CLOSED


# --- the forger --------------------------------------------------------------------------


def an_alert(alert_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "origin": "norwich",
        "id": alert_id,
        "to": "thetford",
        "category": "theft",
        "urgency": "now",
        "description": THEFT,
        "occurred_at": utcnow().isoformat(),
        "photos": [],
    } | changes


async def knock(
    town: Town,
    body: bytes,
    *,
    peer: str = "norwich",
    secret: PeerKeys | None = SHARED,
    key: str = "",
    sent_at: float | None = None,
    path: str = ALERTS_PATH,
    recipient: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST to the town's federation endpoint as `peer`, signed with `secret` (None: unsigned)
    for `recipient` (the town's own scheme unless said)."""
    headers = {"Content-Type": "application/json", signing.PEER_HEADER: peer}
    if secret is not None:
        to = recipient or town.schemes.schemes[0].slug
        headers |= signing.sign(
            secret, peer, "POST", path, body, recipient=to, key=key, now=sent_at
        )
    elif key:
        headers[signing.IDEMPOTENCY_HEADER] = key
    url = f"http://127.0.0.1:{town.runtime.port}{path}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=io.BytesIO(body), headers=headers) as response,
    ):
        return response.status, json.loads(await response.text())


async def refusals(town: Town) -> list[AuditEntry]:
    entries = await town.runtime.store.audit.recent(100)
    return [e for e in entries if e.action == "federation.refused"]


async def test_forged_replayed_stale_oversized_and_unwanted_alerts_are_refused_and_not_stored(
    towns: Towns,
) -> None:
    thetford = towns.thetford
    good = json.dumps(an_alert(9001)).encode()
    accepted, _ = await knock(thetford, good, key="norwich:9001")
    assert accepted == 201
    before = await log_of(thetford, "thetford")

    cases: list[tuple[str, int, dict[str, Any], bytes]] = [
        ("unsigned", 401, {"secret": None, "key": "norwich:9002"}, an(9002)),
        ("wrongly signed", 401, {"secret": SharedSecret(SecretStr("not-the-secret-at-all!")),
                                 "key": "norwich:9003"},
         an(9003)),
        ("replayed", 409, {"key": "norwich:9001"}, good),
        ("stale", 401, {"key": "norwich:9004", "sent_at": time.time() - 600}, an(9004)),
        ("oversized", 413, {"key": "norwich:9005"},
         json.dumps(an_alert(9005, description="x" * (1024 * 1024 + 1))).encode()),
        ("malformed", 422, {"key": "norwich:9006"}, b'{"origin": "norwich", "id": '),
        ("unknown peer", 401, {"peer": "ely", "key": "ely:9007"}, an(9007, origin="ely")),
        ("category not allowed", 403, {"key": "norwich:9008"}, an(9008, category="fraud")),
    ]  # fmt: skip
    for what, status, how, body in cases:
        answer, said = await knock(thetford, body, **how)
        assert answer == status, f"{what}: {answer} {said}"
        assert said["ok"] is False

    assert await log_of(thetford, "thetford") == before, "nothing stored"
    refused = await refusals(thetford)
    assert sorted(int(e.detail["status"]) for e in refused) == sorted(s for _, s, _, _ in cases)
    assert all(e.outcome == AuditOutcome.REFUSED for e in refused)


def an(alert_id: int, **changes: Any) -> bytes:
    return json.dumps(an_alert(alert_id, **changes)).encode()


async def test_a_photo_whose_bytes_do_not_match_its_hash_is_refused(towns: Towns) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice = norwich.person(5_000_000_101, "Alice")
    await norwich.join(alice)
    await alice.send_photo(norwich.bot, jpeg_bytes(), caption=THEFT)
    await copies(thetford, THETFORD)
    (sent,) = await log_of(norwich, "norwich")
    assert sent.id is not None
    (photo,) = await norwich.runtime.store.reports.photos(sent.id)
    stored = norwich.runtime.services.photos.path(photo.relative_path)
    stored.write_bytes(stored.read_bytes() + b"tampered")  # not what Norwich signed for
    before = await log_of(thetford, "thetford")

    answer, said = await knock(thetford, an(9100, photos=[photo.sha256]), key="norwich:9100")

    assert answer == 422, said
    assert "does not match its hash" in said["error"]
    assert await log_of(thetford, "thetford") == before
    assert hashlib.sha256(stored.read_bytes()).hexdigest() != photo.sha256


async def test_the_receiving_town_may_only_send_back_its_control_rooms_calls(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice = norwich.person(5_000_000_101, "Alice")
    await norwich.join(alice)
    await alice.send(norwich.bot, f"/alert {THEFT}")
    await copies(thetford, THETFORD)
    (sent,) = await log_of(norwich, "norwich")
    assert sent.id is not None
    path = f"/federation/v1/alerts/{sent.id}/events"

    def event(status: str, **more: Any) -> bytes:
        body = {"origin": "norwich", "id": sent.id, "kind": "status", "status": status}
        return json.dumps(body | more).encode()

    withdraw = event("withdrawn", changes={"status": "withdrawn"})
    answer, _ = await knock(norwich, withdraw, peer="thetford", key="t:1", path=path)
    assert answer == 403, "only Alice may withdraw her alert"
    elsewhere = "/federation/v1/alerts/99999/events"
    unknown = json.dumps({"origin": "norwich", "id": 99999, "kind": "status"}).encode()
    answer, _ = await knock(norwich, unknown, peer="thetford", key="t:2", path=elsewhere)
    assert answer == 404
    on_camera = event("on_camera", by="Dave")
    answer, _ = await knock(norwich, on_camera, peer="thetford", key="t:3", path=path)
    assert answer == 201
    answer, _ = await knock(norwich, on_camera, peer="thetford", key="t:3", path=path)
    assert answer == 409, "the same call, replayed"

    events = await norwich.runtime.store.reports.events(sent.id)
    assert [(e.status, e.text) for e in events] == [("on_camera", "Dave, Thetford ShopWatch")]
    assert (await norwich.runtime.store.reports.get(sent.id)).status == ReportStatus.OPEN


async def test_an_alert_the_other_town_will_not_take_is_told_to_our_coordinator(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice = norwich.person(5_000_000_101, "Alice")
    await norwich.join(alice)
    last = norwich.sandbox.chat_messages(norwich.bot, norwich.coordinator)[-1].message_id

    await alice.send(
        norwich.bot, "/alert Paid with a counterfeit £20 note, left towards the market"
    )

    told = await norwich.bot_message_after(
        norwich.coordinator, last, lambda m: "did not reach Thetford ShopWatch" in m.body
    )
    (sent,) = await log_of(norwich, "norwich")
    assert sent.category == "fraud"
    assert f"Report #{sent.id}" in told.body
    assert "refused: 403" in told.body
    assert sent.id is not None
    report_id = sent.id
    store = norwich.runtime.store

    async def given_up() -> bool:
        # The coordinator is told first (the sender queues it), then the row is marked.
        (row,) = await store.outbox.for_report(report_id, kind=OutboxKind.FEDERATION)
        return row.state == OutboxState.FAILED

    assert await norwich.sandbox.wait_for(given_up, message="the alert given up")
    assert await log_of(thetford, "thetford") == []


async def test_an_alert_moved_to_a_category_the_other_town_does_not_take_leaves_its_chats(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice = norwich.person(5_000_000_101, "Alice")
    await norwich.join(alice)
    await alice.send(norwich.bot, f"/alert {THEFT}")
    confirmation = await alice.next_reply(norwich.bot)
    await copies(thetford, THETFORD)

    await alice.press(confirmation, alert_texts.category_to_change("theft"))
    await alice.press(norwich.sandbox.refresh(confirmation), alert_texts.CATEGORY_BUTTONS["asb"])

    (kept,) = await log_of(thetford, "thetford")
    assert kept.id is not None
    # Kept in the chat, to say there is nothing to act on, so a change back is an edit and
    # not a second alert ringing every phone.
    stood_down = alert_texts.alert_not_for_this_chat(kept.id, "Norwich ShopWatch", logged=True)

    def gone() -> bool:
        shown = [copies_in(thetford, chat) for chat in THETFORD]
        return all(len(s) == 1 and s[0].body == stood_down for s in shown)

    assert await thetford.sandbox.wait_for(gone, message="Thetford's copies saying so")
    (kept,) = await log_of(thetford, "thetford")
    assert (kept.category, kept.urgency) == ("theft", "log"), "kept in the log, as it came"


async def test_an_alert_the_other_town_refused_reaches_it_once_moved_to_a_category_it_takes(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice = norwich.person(5_000_000_101, "Alice")
    await norwich.join(alice)
    last = norwich.sandbox.chat_messages(norwich.bot, norwich.coordinator)[-1].message_id
    await alice.send(norwich.bot, "/alert Paid with a counterfeit £20 note, then took a razor")
    confirmation = await alice.next_reply(norwich.bot)
    await norwich.bot_message_after(
        norwich.coordinator, last, lambda m: "did not reach Thetford ShopWatch" in m.body
    )
    (sent,) = await log_of(norwich, "norwich")
    assert sent.id is not None

    async def given_up() -> bool:
        rows = await norwich.runtime.store.outbox.for_report(
            sent.id or 0, kind=OutboxKind.FEDERATION
        )
        return [row.state for row in rows] == [OutboxState.FAILED]

    assert await norwich.sandbox.wait_for(given_up, message="the refused alert given up")

    confirmation = norwich.sandbox.refresh(confirmation)
    await alice.press(confirmation, alert_texts.category_to_change("fraud"))
    await alice.press(norwich.sandbox.refresh(confirmation), alert_texts.CATEGORY_BUTTONS["theft"])

    received = await copies(thetford, THETFORD)
    assert all("counterfeit" in copy.body for copy in received.values())
    (arrived,) = await log_of(thetford, "thetford")
    assert arrived.category == "theft"

    async def refused_then_taken() -> list[OutboxState] | None:
        rows = await norwich.runtime.store.outbox.for_report(
            sent.id or 0, kind=OutboxKind.FEDERATION
        )
        states = [row.state for row in rows if read_federation(row).op == "alert"]
        settled = (OutboxState.FAILED, OutboxState.SENT)
        return states if all(state in settled for state in states) else None

    states = await norwich.sandbox.wait_for(refused_then_taken, message="both tries settled")
    assert states == [OutboxState.FAILED, OutboxState.SENT]


# --- the peer that was down -------------------------------------------------------------


async def test_a_town_that_was_down_gets_the_alert_once_it_is_back_exactly_once(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    alice = norwich.person(5_000_000_101, "Alice")
    await norwich.join(alice)
    settings, schemes = thetford.runtime.settings, thetford.runtime.schemes
    await thetford.runtime.stop()

    await alice.send(norwich.bot, f"/alert {THEFT}")
    await copies(norwich, NORWICH)
    (sent,) = await log_of(norwich, "norwich")
    assert sent.id is not None

    async def tried_and_waiting() -> bool:
        rows = await norwich.runtime.store.outbox.for_report(
            sent.id or 0, kind=OutboxKind.FEDERATION
        )
        return bool(rows) and rows[0].attempts >= 1 and rows[0].state == OutboxState.PENDING

    tried: bool = await norwich.sandbox.wait_for(tried_and_waiting, message="a failed delivery")
    assert tried

    thetford.runtime = BotRuntime(settings, schemes)
    await thetford.runtime.start()
    later = utcnow() + timedelta(minutes=3)
    await norwich.runtime.outbox.run_once(now=later)
    await copies(thetford, THETFORD)
    await norwich.runtime.outbox.run_once(now=later + timedelta(minutes=10))

    (row,) = await norwich.runtime.store.outbox.for_report(sent.id, kind=OutboxKind.FEDERATION)
    assert row.state == OutboxState.SENT
    assert len(await log_of(thetford, "thetford")) == 1
    for chat in THETFORD:
        assert len(copies_in(thetford, chat)) == 1


# --- setting up a pair of towns ----------------------------------------------------------


def test_keygen_prints_a_new_secret_each_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["federation", "keygen"]) == 0
    assert main(["federation", "keygen"]) == 0
    first, second = capsys.readouterr().out.split()
    assert first != second
    assert len(first) >= 40


async def test_check_pings_the_peer_and_reports_the_secret_and_the_clock(towns: Towns) -> None:
    schemes = towns.norwich.runtime.schemes
    peer = load_peers(schemes)["thetford"]

    result = await ping(peer, sender_for(schemes, "thetford"))

    assert result.ok
    assert result.skew_seconds is not None
    clock_difference = result.skew_seconds  # between the two towns' clocks, not a timing
    assert abs(clock_difference) < 5, "one machine, one clock"
    assert "signed ping accepted" in describe(peer, result)

    wrong = Peer(peer.config, SharedSecret(SecretStr("somebody-else's-secret")))
    refused = await ping(wrong, "norwich")
    assert not refused.ok
    assert "bad signature" in describe(wrong, refused)

    await towns.thetford.runtime.stop()
    down = await ping(peer, "norwich")
    assert not down.reachable
    assert "unreachable" in describe(peer, down)


def own_keys() -> signing.Ed25519Keys:
    """A town that checks its own signatures: enough to see what the signature covers."""
    ours = signing.private_key(signing.new_ed25519_key())
    return signing.Ed25519Keys(ours, ours.public_key())


@pytest.mark.parametrize("keys", [SHARED, own_keys()], ids=["shared secret", "Ed25519"])
def test_a_signature_binds_the_path_the_key_and_the_body(keys: PeerKeys) -> None:
    body = an(9300)
    headers = signing.sign(
        keys, "norwich", "POST", ALERTS_PATH, body, recipient="thetford", key="norwich:9300"
    )

    def problem(path: str = ALERTS_PATH, key: str = "norwich:9300", data: bytes = body) -> str:
        moved = headers | {signing.IDEMPOTENCY_HEADER: key}
        return str(signing.check(keys, moved, "POST", path, data, recipients={"thetford"}))

    assert problem() == "None"
    assert problem(path="/federation/v1/alerts/1/events") == "bad signature"
    assert problem(key="norwich:9301") == "bad signature", "a replay under a new key"
    assert problem(data=an(9301)) == "bad signature"


@pytest.mark.parametrize("keys", [SHARED, own_keys()], ids=["shared secret", "Ed25519"])
def test_a_signature_cannot_be_read_as_another_split_of_its_fields(keys: PeerKeys) -> None:
    """Path `/ping.x` with key `k` is not path `/ping` with key `x.k`, nor the key and the
    body traded, nor the sender's name and the recipient's."""
    signed = signing.sign(
        keys, "norwich", "GET", "/federation/v1/ping.x", recipient="thetford", key="k"
    )

    def check(path: str, key: str, body: bytes = b"", peer: str = "norwich") -> str | None:
        moved = signed | {signing.IDEMPOTENCY_HEADER: key, signing.PEER_HEADER: peer}
        return signing.check(keys, moved, "GET", path, body, recipients={"thetford", "norwich"})

    assert check("/federation/v1/ping.x", "k") is None
    assert check("/federation/v1/ping", "x.k") == "bad signature"
    assert check("/federation/v1/ping.x", "", b"k") == "bad signature"
    assert check("/federation/v1/ping.x", "k", peer="thetford") == "bad signature"
