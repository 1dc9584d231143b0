"""`make bench`: every benchmark in turn."""

from __future__ import annotations

import asyncio

from bench import alert_latency, export, load, roundtrip

if __name__ == "__main__":
    asyncio.run(roundtrip.main())
    asyncio.run(alert_latency.main([]))
    export.main()
    asyncio.run(load.main([]))
