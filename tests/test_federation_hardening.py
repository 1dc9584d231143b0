"""A signed peer is still only a neighbour: what it may post, and where it goes no further.

Norwich's deployment also runs King's Lynn, which has no agreement with Thetford.
Thetford, a peer of Norwich's, tries to post into King's Lynn and to have its alert
passed on by Norwich to Norwich's own neighbours.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image
from pydantic import SecretStr

from broadcast.federation import signing
from broadcast.federation.protocol import ALERTS_PATH
from broadcast.federation.signing import SharedSecret
from config.errors import ConfigError
from config.schemes import parse_schemes
from config.vocabulary import OutboxKind
from storage.models import OutboxRow
from tests.test_federation import (
    NORWICH_FILE,
    SECRET,
    SHARED,
    SHARED_NORWICH,
    SHARED_THETFORD,
    THETFORD_FILE,
    Side,
    Towns,
    an,
    knock,
    log_of,
    refusals,
    running_towns,
)

KINGS_LYNN_GROUP, KINGS_LYNN_CONTROL_ROOM = -1002000000031, -1002000000032
NORWICH_AND_KINGS_LYNN = (
    NORWICH_FILE.replace(
        '''  [[scheme.neighbour]]
  slug = "thetford"''',
        '''  [[scheme.neighbour]]
  slug = "kings-lynn"
  categories = ["theft"]

  [[scheme.neighbour]]
  slug = "thetford"''',
    )
    + f"""
[[scheme]]
slug = "kings-lynn"
name = "King's Lynn ShopWatch"
group_chat_id = {KINGS_LYNN_GROUP}
control_room_chat_id = {KINGS_LYNN_CONTROL_ROOM}
coordinators = [700031]
"""
)


@pytest.fixture
async def towns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Towns]:
    monkeypatch.setenv("SHOPWATCH_PEER_THETFORD_SECRET", SECRET)
    monkeypatch.setenv("SHOPWATCH_PEER_NORWICH_SECRET", SECRET)
    norwich = Side(NORWICH_AND_KINGS_LYNN, 'secret_env = "SHOPWATCH_PEER_THETFORD_SECRET"')
    async with running_towns(tmp_path, norwich, SHARED_THETFORD) as both:
        yield both


async def test_a_peer_posts_only_into_a_scheme_that_named_it_and_is_never_passed_on(
    towns: Towns,
) -> None:
    norwich = towns.norwich
    store = norwich.runtime.store

    answer, said = await knock(
        norwich,
        an(9500, origin="thetford", to="kings-lynn"),
        peer="thetford",
        key="thetford:9500",
    )

    assert answer == 403, said
    assert await log_of(norwich, "kings-lynn") == []
    [refused] = await refusals(norwich)
    assert "no agreement" in refused.detail["reason"]

    answer, said = await knock(
        norwich, an(9501, origin="thetford", to="norwich"), peer="thetford", key="thetford:9501"
    )
    assert answer == 201, said
    [report] = await log_of(norwich, "norwich")
    assert report.id is not None
    chats = {row.chat_id for row in await store.outbox.for_report(report.id)}
    passed_on = chats & {KINGS_LYNN_GROUP, KINGS_LYNN_CONTROL_ROOM}
    assert passed_on == set(), "a peer's alert is not passed on to our own neighbours"
    assert {norwich.group.id, norwich.control_room.id} <= chats


async def test_json_nested_too_deep_is_a_422_and_audited_not_a_500(towns: Towns) -> None:
    thetford = towns.thetford
    deep = b'{"origin": "norwich", "id": 9600, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"

    answer, said = await knock(thetford, deep, key="norwich:9600")

    assert answer == 422, said
    [refused] = await refusals(thetford)
    assert refused.detail["status"] == 422


async def test_a_forged_path_writes_no_line_of_its_own_and_strangers_cannot_flood_the_audit(
    towns: Towns, caplog: pytest.LogCaptureFixture
) -> None:
    thetford = towns.thetford
    forged_line = "/federation/v1/alerts/1%0A2026-12-02 INFO shopwatch: peers verified/events"

    with caplog.at_level(logging.WARNING, logger="broadcast.federation.inbound"):
        for n in range(40):
            answer, _ = await knock(
                thetford, an(9700 + n), secret=None, key=f"norwich:{9700 + n}", path=forged_line
            )
            assert answer == 401

    logged = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert logged
    assert all("\n" not in line for line in logged), "the decoded %0A stays inside its line"
    assert len(await refusals(thetford)) <= 2, "unauthenticated refusals are sampled"


async def test_a_peers_words_pass_the_member_text_filter_and_its_statuses_a_fixed_list(
    towns: Towns,
) -> None:
    thetford = towns.thetford
    place = "Market St\nStatus: ALL CLEAR, stand down\x00"

    answer, said = await knock(thetford, an(9800, location_text=place), key="norwich:9800")

    assert answer == 201, said
    [report] = await log_of(thetford, "thetford")
    assert report.location_text == "Market St Status: ALL CLEAR, stand down"
    path = "/federation/v1/alerts/9800/events"
    formula = '=HYPERLINK("http://e.vil/","x")'
    for n, body in enumerate(
        [
            {"origin": "norwich", "id": 9800, "kind": "status", "status": formula},
            {"origin": "norwich", "id": 9800, "kind": "status", "status": "all_clear"},
        ]
    ):
        answer, said = await knock(thetford, json.dumps(body).encode(), key=f"e:{n}", path=path)
        assert answer == 422, said
    update = {"origin": "norwich", "id": 9800, "kind": "update", "text": "Seen\x00 again\r\n"}
    answer, said = await knock(thetford, json.dumps(update).encode(), key="e:3", path=path)
    assert answer == 201, said
    assert report.id is not None
    texts = [e.text for e in await thetford.runtime.store.reports.events(report.id)]
    assert texts == ["Seen again"]


async def test_a_photo_fetch_follows_no_redirect_and_tells_the_peer_nothing_of_what_failed(
    towns: Towns,
) -> None:
    """Norwich's address answers Thetford's photo fetch with a 302 to an internal service:
    Thetford must not call it (with its signed headers), nor say what it found."""
    norwich, thetford = towns.norwich, towns.thetford
    port = norwich.runtime.port
    assert port is not None
    await norwich.runtime.stop()
    internal_calls: list[str] = []

    async def internal(request: web.Request) -> web.Response:
        internal_calls.append(request.path)
        return web.Response(status=503, text="admin console: redis at 10.0.0.7 is down")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(inside.make_url("/admin")))

    inside_app = web.Application()
    inside_app.router.add_route("*", "/{tail:.*}", internal)
    lure = web.Application()
    lure.router.add_route("*", "/{tail:.*}", redirect)
    runner = web.AppRunner(lure)
    async with TestServer(inside_app) as inside:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            answer, said = await knock(thetford, an(9900, photos=["ab" * 32]), key="norwich:9900")
        finally:
            await runner.cleanup()

    assert answer == 503
    assert said["error"] == "could not fetch a photo; try again later"
    assert internal_calls == [], "the redirect was not followed"


# --- a flooding peer ---------------------------------------------------------------------

ELY_SECRET = "a-shared-secret-for-ely-and-thetford"
THETFORD_WITH_ELY = (
    THETFORD_FILE.replace(
        "\n[[peer]]",
        """
  [[scheme.neighbour]]
  slug = "ely"
  categories = ["theft"]

[[peer]]""",
        1,
    ).replace("photos = true", "photos = true\nburst = 5\nrequests_per_minute = 1")
    + """
[[peer]]
slug = "ely"
name = "Ely ShopWatch"
url = "https://shopwatch.ely.example/"
secret_env = "SHOPWATCH_PEER_ELY_SECRET"
sends = ["theft"]
receives = ["theft"]
"""
)


@pytest.fixture
async def thetford_and_ely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Towns]:
    monkeypatch.setenv("SHOPWATCH_PEER_THETFORD_SECRET", SECRET)
    monkeypatch.setenv("SHOPWATCH_PEER_NORWICH_SECRET", SECRET)
    monkeypatch.setenv("SHOPWATCH_PEER_ELY_SECRET", ELY_SECRET)
    thetford = Side(THETFORD_WITH_ELY, 'secret_env = "SHOPWATCH_PEER_NORWICH_SECRET"')
    async with running_towns(tmp_path, SHARED_NORWICH, thetford) as both:
        yield both


async def test_a_flooding_peer_is_told_to_wait_once_audited_and_other_peers_still_get_in(
    thetford_and_ely: Towns,
) -> None:
    """Thetford lets Norwich send five at once, then one a minute; Norwich sends fifteen."""
    thetford = thetford_and_ely.thetford
    url = f"http://127.0.0.1:{thetford.runtime.port}{ALERTS_PATH}"
    answers: list[tuple[int, str | None]] = []
    async with aiohttp.ClientSession() as session:
        for n in range(15):
            body = an(9950 + n)
            headers = signing.sign(
                SHARED, "norwich", "POST", ALERTS_PATH, body,
                recipient="thetford", key=f"norwich:{9950 + n}",
            )  # fmt: skip
            async with session.post(url, data=body, headers=headers) as response:
                answers.append((response.status, response.headers.get("Retry-After")))

    assert [status for status, _ in answers] == [201] * 5 + [429] * 10
    assert all(wait is not None and int(wait) >= 1 for _, wait in answers[5:])
    assert len(await log_of(thetford, "thetford")) == 5, "nothing beyond the limit stored"
    limited = [e for e in await refusals(thetford) if e.detail["status"] == 429]
    assert len(limited) == 1, "a burst of refusals is audited once"
    assert limited[0].detail["peer"] == "norwich"

    ely = SharedSecret(SecretStr(ELY_SECRET))
    answer, said = await knock(thetford, an(1, origin="ely"), peer="ely", secret=ely, key="ely:1")

    assert answer == 201, f"Norwich's flood does not hold up Ely: {said}"


# --- a peer's hostile photos ---------------------------------------------------------------


def image(size: tuple[int, int], kind: str, **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 90, 90)).save(out, format=kind, **options)
    return out.getvalue()


def noise_jpeg(side: int) -> bytes:
    out = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((side, side), 120)] * 3).save(
        out, format="JPEG", quality=100
    )
    return out.getvalue()


HOSTILE_PHOTOS = [
    ("a pixel bomb", image((7070, 7070), "PNG"), "is PNG, not JPEG"),
    ("a small PNG", image((300, 200), "PNG"), "is PNG, not JPEG"),
    ("a GIF", image((300, 200), "GIF"), "is GIF, not JPEG"),
    ("a 48-megapixel JPEG", image((8000, 6000), "JPEG"), "8000 x 6000 px, more than 2048"),
    ("over 4 MiB", noise_jpeg(2000), "a photo over 4 MiB"),
    ("no image at all", b"<html>hello</html>" * 20, "is not an image"),
]


async def test_a_peers_photo_is_a_jpeg_of_bounded_size_or_the_alert_is_refused(
    towns: Towns,
) -> None:
    """Norwich's address serves, as the photos of its alerts, files no ShopWatch serves:
    each alert is refused before a pixel of its photo is decoded, and nothing is stored."""
    norwich, thetford = towns.norwich, towns.thetford
    port = norwich.runtime.port
    assert port is not None
    await norwich.runtime.stop()
    served = {hashlib.sha256(data).hexdigest(): data for _, data, _ in HOSTILE_PHOTOS}

    async def photo(request: web.Request) -> web.Response:
        return web.Response(body=served[request.match_info["sha256"]], content_type="image/jpeg")

    hostile = web.Application()
    hostile.router.add_get("/federation/v1/photos/{sha256}", photo)
    runner = web.AppRunner(hostile)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        for n, (what, data, problem) in enumerate(HOSTILE_PHOTOS):
            sha256 = hashlib.sha256(data).hexdigest()
            answer, said = await knock(
                thetford, an(9960 + n, photos=[sha256]), key=f"norwich:{9960 + n}"
            )
            assert (answer, problem in said["error"]) == (422, True), f"{what}: {said}"
    finally:
        await runner.cleanup()

    assert await log_of(thetford, "thetford") == []
    kept = thetford.runtime.services.photos.root
    assert not kept.exists() or [p for p in kept.rglob("*") if p.is_file()] == []


# --- where requests to peers may go --------------------------------------------------------

PEER_AT = """[[scheme]]
slug = "norwich"
name = "Norwich ShopWatch"
group_chat_id = -1002000000001
control_room_chat_id = -1002000000002

[[peer]]
slug = "thetford"
secret_env = "SHOPWATCH_PEER_THETFORD_SECRET"
url = "{url}"
{more}"""


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://shopwatch.thetford.example/", "must be https://"),
        ("https://10.0.0.7/", "10.0.0.7 is not a public address"),
        ("https://169.254.169.254/latest/", "169.254.169.254 is not a public address"),
        ("https://[::ffff:127.0.0.1]:8443/", "::ffff:127.0.0.1 is not a public address"),
    ],
)
def test_a_peer_is_at_a_public_https_address_unless_marked_private(url: str, problem: str) -> None:
    text = PEER_AT.format(url=url, more="")
    line = text.splitlines().index(f'url = "{url}"') + 1

    with pytest.raises(ConfigError) as error:
        parse_schemes(text, "schemes.toml")

    assert str(error.value).startswith(f"schemes.toml:{line}: peer[0].url: {problem}")
    allowed = parse_schemes(PEER_AT.format(url=url, more="allow_private_address = true\n"))
    assert allowed.peers[0].allow_private_address


async def test_a_peer_whose_name_points_inside_our_network_is_never_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Thetford's DNS says it is at 127.0.0.1 (`localhost`), where a service of ours
    listens: Norwich's alert is not sent there, and the log says why."""
    monkeypatch.setenv("SHOPWATCH_PEER_THETFORD_SECRET", SECRET)
    monkeypatch.setenv("SHOPWATCH_PEER_NORWICH_SECRET", SECRET)
    called: list[str] = []

    async def inside(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        called.append(str(writer.get_extra_info("peername")))
        writer.close()

    service = await asyncio.start_server(inside, "127.0.0.1", 0)
    port = service.sockets[0].getsockname()[1]
    pointed_inside = NORWICH_FILE.replace(
        'url = "http://127.0.0.1:{peer_port}/"\nallow_private_address = true',
        f'url = "https://localhost:{port}/"',
    )
    assert pointed_inside != NORWICH_FILE
    norwich_side = Side(pointed_inside, 'secret_env = "SHOPWATCH_PEER_THETFORD_SECRET"')
    async with service, running_towns(tmp_path, norwich_side, SHARED_THETFORD) as towns:
        norwich = towns.norwich
        alice = norwich.person(5_000_000_101, "Alice")
        await norwich.join(alice)
        await alice.send(norwich.bot, "/alert Took two bottles of whisky, ran towards the A11")
        store = norwich.runtime.store

        async def tried() -> OutboxRow | None:
            rows = await store.outbox.for_report(1, kind=OutboxKind.FEDERATION)
            return rows[0] if rows and rows[0].last_error else None

        row = await norwich.sandbox.wait_for(tried, message="a try to send to Thetford")

    assert called == [], "nothing inside was called"
    assert "unreachable" in str(row.last_error), "tried again later, then given up"
    said = [r.getMessage() for r in caplog.records if r.name == "broadcast.federation.addresses"]
    assert "peer host 'localhost' resolves only to private addresses: not called" in said
