"""`make bench`: every benchmark in turn."""

from __future__ import annotations

import asyncio

from bench import roundtrip

if __name__ == "__main__":
    asyncio.run(roundtrip.main())
