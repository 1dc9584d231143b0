"""Which of the sizes Telegram offers for a photo message the bot fetches.

Telegram keeps a photo message as several JPEGs it made itself: 90, 320, 800, 1280
and 2560 px on the long side (those smaller than the picture, and the picture up to
2560 px). None of them is the camera's original; a member who wants that sends the
photo as a file. The bot fetches the smallest size whose long side is at least
`PhotoLimits.evidence_side` (1280 px), and the largest when none is that big:

- 1280 px is what a phone shows full screen and what the chats' copies are seen at;
- a person 1.8 m tall filling half the height of a 1280 x 960 frame is pictured at
  about 270 pixels a metre, above the 250 px/m that BS EN 62676-4 (CCTV) asks for
  *identification*; the 2560 px size adds detail only for a subject far smaller in
  the frame, and Telegram's own compression has already taken much of it;
- the 2560 px size is four times the pixels to fetch and to decode, and a 12 MP
  camera's detail, where it matters, comes with the photo sent as a file.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import PhotoSize

from storage.photo_limits import PhotoLimits


def evidence_size(sizes: Sequence[PhotoSize], limits: PhotoLimits) -> PhotoSize:
    """The smallest offered size at least `limits.evidence_side` long, else the largest."""
    by_length = sorted(sizes, key=lambda size: (max(size.width, size.height), size.file_size or 0))
    for size in by_length:
        if max(size.width, size.height) >= limits.evidence_side:
            return size
    return by_length[-1]
