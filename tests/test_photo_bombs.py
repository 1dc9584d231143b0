"""A picture's cost is bounded before it is paid: pixel bombs, huge JPEGs, photo sizes.

Priya runs Jarrold on London Street in Norwich. Someone gives her phone a 160 KB PNG
that claims 7070 x 7070 pixels of one colour; decoded whole it is 200 MB of pixels and
seconds of CPU. The bot refuses it by its dimensions before decoding a pixel. A JPEG
as big is decoded at an eighth of the work (the decoder's own scaling) and kept at
1600 px. A member over the posting limit costs no download at all. And of the sizes
Telegram keeps of a photo message, the bot fetches the one that serves the evidence.

Memory is read from Pillow's own accounting (`get_stats` of its C core: every image's
pixels are allocated in blocks of at most 16 MB), which counts what was allocated
whatever thread decoded it: a deterministic measure, not a timing.
"""

from __future__ import annotations

import io

from PIL import Image
from PIL import _imaging as pillow_core  # Pillow's C core, where its allocator counts

from broadcast.texts import alerts as alert_texts
from sandbox import MessageView, Person
from storage.photos import TOO_MANY_PIXELS
from tests.test_alerts import alice
from tests.town import Town

CAPTION = "Male 30s, grey hoodie, took two bottles of gin, heading to Haymarket"
SIDE = 7070
"""49.98 megapixels: under the old 50 MP cap, far over what a phone's camera makes."""
PIXEL_BLOCK = 16 * 2**20


def _one_colour(image_format: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (SIDE, SIDE), (200, 30, 30)).save(out, format=image_format)
    return out.getvalue()


def _pillow_bytes_allocated() -> int:
    """Bytes of image memory Pillow has handed out in this process so far (an upper
    bound: a block is counted whole)."""
    stats = pillow_core.get_stats()
    return int(stats["allocated_blocks"] + stats["reused_blocks"]) * PIXEL_BLOCK


async def _reply_and_allocation(
    town: Town, member: Person, data: bytes, file_name: str, mime_type: str
) -> tuple[MessageView, MessageView, int]:
    """The member sends `data` as a file; the bot's answer and the image memory it cost."""
    before = _pillow_bytes_allocated()
    sent = await member.send_document(town.bot, data, file_name, CAPTION, mime_type=mime_type)
    reply = await member.next_reply(town.bot)
    return sent, reply, _pillow_bytes_allocated() - before


async def test_a_pixel_bomb_sent_as_a_file_is_refused_before_a_pixel_is_decoded(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = await alice(town)
    bomb = _one_colour("PNG")
    assert len(bomb) < 200_000, "a bomb is small on the wire"

    _, reply, allocated = await _reply_and_allocation(
        town, priya, bomb, "IMG_0001.png", "image/png"
    )

    assert reply.body == alert_texts.photo_refused(TOO_MANY_PIXELS)
    assert allocated == 0, "the bomb was refused by its header, before any decoding"
    assert town.bot_said(town.control_room) == []


async def test_a_jpeg_as_big_is_decoded_at_reduced_size_and_kept_at_that_size(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = await alice(town)

    _, reply, allocated = await _reply_and_allocation(
        town, priya, _one_colour("JPEG"), "IMG_0002.jpg", "image/jpeg"
    )

    assert reply.body.startswith("Alert sent")
    # Decoded whole, 7070 x 7070 is 200 MB of pixels before any copy (43 blocks in all).
    # At the decoder's 1/4 scale it is 1768 x 1768, 12.5 MB: one block, and one each for
    # its upright copy, the clean copy and the hash's two. Within 2048 px, it is kept so.
    assert allocated <= 10 * PIXEL_BLOCK
    copy = await town.bot_message_after(town.control_room, 0, lambda m: CAPTION in m.body)
    assert copy.photo_size == (1768, 1768)


async def test_a_member_over_the_posting_limit_costs_no_download(polling_town: Town) -> None:
    town = polling_town
    priya = await alice(town)
    for number in range(10):
        await priya.send(town.bot, f"/alert Male in a red cap at the tills, sighting {number}")
        assert (await priya.next_reply(town.bot)).body.startswith("Alert sent")

    sent, reply, allocated = await _reply_and_allocation(
        town, priya, _one_colour("JPEG"), "IMG_0003.jpg", "image/jpeg"
    )

    assert reply.body == alert_texts.TOO_MANY_ALERTS
    assert town.sandbox.downloads(sent) == {"IMG_0003.jpg": 0}
    assert allocated == 0


async def test_of_a_photo_messages_sizes_the_bot_fetches_the_1280_px_one(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = await alice(town)
    picture = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=90)

    sent = await priya.send_photo(town.bot, out.getvalue(), caption=CAPTION)
    assert (await priya.next_reply(town.bot)).body.startswith("Alert sent")

    assert town.sandbox.downloads(sent) == {
        (90, 68): 0,
        (320, 240): 0,
        (800, 600): 0,
        (1280, 960): 1,
        (2560, 1920): 0,
    }
    copy = await town.bot_message_after(town.control_room, 0, lambda m: CAPTION in m.body)
    assert copy.photo_size == (1280, 960)
