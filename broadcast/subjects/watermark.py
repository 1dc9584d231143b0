"""A subject's photo as one viewer is shown it: marked across with who was shown it.

A picture that leaves the scheme (a screenshot passed on, a photo of the screen)
then says whose copy it was: the viewer's scheme reference, repeated across the
image so a crop does not remove it, and once more in a band at the foot with the
time it was shown.
"""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont, ImageOps

from config import formats

MAX_SIDE = 1280
"""Long side of a shown photo: plenty for a phone, and less to copy."""
TILE_ALPHA = 72
BAND_ALPHA = 170


def viewer_reference(scheme_slug: str, member_id: int) -> str:
    """The viewer's scheme reference: the scheme and their member number in it."""
    return f"{scheme_slug.upper()}-M{member_id}"


def watermark(data: bytes, reference: str, shown_at: datetime) -> bytes:
    """`data` (a JPEG of the photo store) re-encoded with `reference` marked across it."""
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    width, height = image.size
    size = max(12, min(width, height) // 18)
    font = ImageFont.load_default(size=size)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    step_x, step_y = size * (len(reference) // 2 + 4), size * 4
    for row, y in enumerate(range(-size, height + size, step_y)):
        offset = (row % 2) * step_x // 2
        for x in range(-step_x + offset, width + step_x, step_x):
            draw.text((x, y), reference, font=font, fill=(255, 255, 255, TILE_ALPHA))
            draw.text((x + 1, y + 1), reference, font=font, fill=(0, 0, 0, TILE_ALPHA // 2))
    footer = f"{reference}  {formats.moment(shown_at, 'UTC')} UTC  NOT FOR PUBLICATION"
    small = size
    while small > 8 and draw.textlength(footer, font=font) > width - size // 2:
        small -= 1
        font = ImageFont.load_default(size=small)
    band = small + small // 2 + 2
    draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, BAND_ALPHA))
    draw.text((size // 4, height - band + small // 4), footer, font=font, fill=(255, 255, 255))
    marked = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    marked.save(out, format="JPEG", quality=85)
    return out.getvalue()
