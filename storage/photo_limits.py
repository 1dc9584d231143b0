"""What a photo may be, and how it is decoded: the bounds the store and its children share."""

from __future__ import annotations

from dataclasses import dataclass

NOT_A_PHOTO = "that file is not a photo we can use"
"""What a member hears of a file no decoder makes a photo of, in the bot or in a child."""


@dataclass(frozen=True)
class PhotoLimits:
    """Upper bounds: Telegram photos are at most 10 MB and 10000 px a side.

    `max_pixels` is what a JPEG may claim (a phone's 48-50 megapixel mode); a JPEG is
    decoded at 1/2 to 1/8 scale, never below `draft_side`, so what is decoded stays
    between `draft_side` and twice it.
    `max_decoded_pixels` is what may be decoded at all, whatever the format: a 12 MP
    phone photo (4032 x 3024) with room to spare. PNG, WebP, GIF and BMP are decoded
    whole, so it is their cap; it bounds one decode's memory to about 38 MB of RGB
    pixels (three working copies at most), and `workers` bounds how many run at once.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_decoded_pixels: int = 12_600_000
    max_side: int = 2048
    """The most a kept photo has a side; a larger one is resampled (Lanczos) to it."""
    draft_side: int = 1600
    """The least a JPEG is decoded to a side, where it is larger (its decoder's 1/2 to
    1/8 scale): 1/2 of a 12 MP photo is 2000 px, kept as it is."""
    evidence_side: int = 1280
    """Of a photo message's sizes, the smallest at least this long is fetched
    (`handlers.photo_size`): a photo message is Telegram's re-encoding, never the
    camera's original, and 1280 px serves identification."""
    jpeg_quality: int = 85
    workers: int = 2
    """How many photos are decoded at once, each in a child process of its own."""
    niceness: int = 10
    """The decoding children's priority below the bot's: with the cores busy, every
    alert's sends and transactions go first, and the pictures take what is left."""
    decode_seconds: float = 30.0
    """Past this a photo's child is killed and the photo refused: a phone photo takes a
    tenth of a second, a 50-megapixel one of one colour half that."""

    def draft_size(self, width: int, height: int) -> tuple[int, int]:
        """The least a `width` x `height` JPEG is decoded to: within `draft_side` (and
        `max_side`), never up."""
        side = min(self.draft_side, self.max_side)
        longest = max(width, height, 1)
        if longest <= side:
            return width, height
        scale = side / longest
        return max(1, round(width * scale)), max(1, round(height * scale))
