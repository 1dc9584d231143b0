"""The token's lanes on their own: who goes first when calls wait, and what waits for what.

These run on a real event loop with plain coroutines as the calls (the lanes are
ours, not Telegram's), and the token's clock is one the test moves, a token at a
time, so every check is of order, never of time. The story through the sandbox is
`tests/test_rate_limit_lane.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.rate_limit import LaneRateLimiter
from broadcast.lanes import Lanes, TokenBucket, current_priority, sending_at
from storage.outbox import CONTROL_ROOM_PRIORITY, GROUP_PRIORITY, PRIVATE_PRIORITY

GROUP = -1001000000001
MEMBER = 5_000_000_101
RATE = 1000.0
"""Tokens a second in the ordering tests: the clock moves 1/RATE for each."""


class Clock:
    """The token's time, moved by the test alone."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until the calls the test started have done what it waits for."""
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the calls never got there")


async def one_token_at_a_time(clock: Clock, heard: list[str], count: int) -> None:
    """Move the clock on a token at a time, each time waiting for one more call to go."""
    for _ in range(count):
        before = len(heard)
        clock.now += 1 / RATE
        await until(lambda: len(heard) == before + 1)  # noqa: B023 - awaited at once


async def test_waiting_calls_go_most_urgent_first_and_equals_in_the_order_they_came() -> None:
    clock = Clock()
    token = TokenBucket(rate=RATE, burst=1, clock=clock)
    heard: list[str] = []
    await token.enter(GROUP_PRIORITY)  # the last token for now: the rest wait their turn

    async def call(name: str, priority: int) -> None:
        await token.enter(priority)
        heard.append(name)

    arriving = [
        ("Norwich group", GROUP_PRIORITY),
        ("Wymondham group", GROUP_PRIORITY),
        ("Alice's confirmation", PRIVATE_PRIORITY),
        ("Norwich control room", CONTROL_ROOM_PRIORITY),
        ("Yarmouth group", GROUP_PRIORITY),
        ("Bob's confirmation", PRIVATE_PRIORITY),
    ]
    calls = []
    for name, priority in arriving:
        calls.append(asyncio.create_task(call(name, priority)))
        await until(lambda: token.waiting == len(calls))
    await one_token_at_a_time(clock, heard, len(arriving))
    await asyncio.gather(*calls)

    assert heard == [
        "Alice's confirmation",
        "Bob's confirmation",
        "Norwich control room",
        "Norwich group",
        "Wymondham group",
        "Yarmouth group",
    ]


async def test_a_call_given_up_while_it_waits_holds_nobody_up() -> None:
    clock = Clock()
    token = TokenBucket(rate=RATE, burst=1, clock=clock)
    heard: list[str] = []
    await token.enter(GROUP_PRIORITY)

    async def call(name: str, priority: int) -> None:
        await token.enter(priority)
        heard.append(name)

    gone = asyncio.create_task(call("the confirmation of a stopped handler", PRIVATE_PRIORITY))
    later = asyncio.create_task(call("Norwich group", GROUP_PRIORITY))
    await until(lambda: token.waiting == 2)
    gone.cancel()
    await one_token_at_a_time(clock, heard, 1)
    await later

    assert gone.cancelled()
    assert heard == ["Norwich group"]


async def test_a_quiet_token_lets_a_burst_through_at_once_and_the_rest_wait_for_the_rate() -> None:
    clock = Clock()
    token = TokenBucket(rate=30.0, burst=10.0, clock=clock)
    heard: list[int] = []

    async def call(number: int) -> None:
        await token.enter(GROUP_PRIORITY)
        heard.append(number)

    burst = [asyncio.create_task(call(n)) for n in range(1, 12)]
    await until(lambda: len(heard) == 10 and token.waiting == 1)
    assert heard == list(range(1, 11)), "ten at once, the eleventh waits"

    clock.now += 1 / 30  # a thirtieth of a second later, one more may go
    await asyncio.gather(*burst)
    assert heard == list(range(1, 12))


async def test_a_group_at_its_minute_waits_for_it_without_holding_up_the_token() -> None:
    clock = Clock()
    lanes = Lanes(per_second=30.0, per_group_minute=2, group_seconds=0.5, clock=clock)
    heard: list[str] = []

    async def call(chat: int, name: str, priority: int) -> None:
        await lanes.enter(chat, priority)
        heard.append(name)

    for n in (1, 2):
        await call(GROUP, f"group copy {n}", GROUP_PRIORITY)
    third = asyncio.create_task(call(GROUP, "group copy 3", GROUP_PRIORITY))
    await until(lambda: lanes.waiting_for_group(GROUP) == 1)
    await call(MEMBER, "Alice's confirmation", PRIVATE_PRIORITY)

    assert heard == ["group copy 1", "group copy 2", "Alice's confirmation"]
    assert lanes.overall is not None
    assert lanes.overall.waiting == 0, "the group's third copy waits for its minute, not the token"

    clock.now += 0.25  # the group's "minute" is half a second here: one more is due
    await third
    assert heard[-1] == "group copy 3"


async def test_a_group_call_given_up_while_it_waits_for_the_token_keeps_the_groups_room() -> None:
    clock = Clock()
    lanes = Lanes(
        per_second=RATE, per_group_minute=1, burst_seconds=0, group_seconds=1e9, clock=clock
    )
    heard: list[str] = []
    await lanes.enter(MEMBER, PRIVATE_PRIORITY)  # the token's last for now

    async def call(name: str) -> None:
        await lanes.enter(GROUP, GROUP_PRIORITY)
        heard.append(name)

    gone = asyncio.create_task(call("a copy whose sender stopped"))
    assert lanes.overall is not None
    await until(lambda: lanes.overall is not None and lanes.overall.waiting == 1)
    gone.cancel()
    later = asyncio.create_task(call("the group's next copy"))
    await until(lambda: lanes.overall is not None and lanes.overall.waiting == 1)
    await one_token_at_a_time(clock, heard, 1)
    await later

    assert heard == ["the group's next copy"], "the group's one a minute was not spent"


# --- python-telegram-bot's calls through the lanes -------------------------------------------


async def through(
    limiter: LaneRateLimiter, call: Callable[[], Awaitable[Any]], chat: int | str | None
) -> Any:
    async def callback(*_: Any, **__: Any) -> Any:
        return await call()

    data: dict[str, Any] = {} if chat is None else {"chat_id": chat}
    return await limiter.process_request(callback, (), {}, "sendMessage", data, None)


def saying(heard: list[str], name: str) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        heard.append(name)

    return send


async def test_a_rows_priority_is_its_calls_lane_and_a_handlers_reply_goes_first() -> None:
    clock = Clock()
    lanes = Lanes(per_second=RATE, per_group_minute=0, burst_seconds=0, clock=clock)
    limiter = LaneRateLimiter(lanes, max_retries=0)
    heard: list[str] = []
    await through(limiter, saying(heard, "the last copy the token had room for"), GROUP)

    calls = []
    for name, priority in [
        ("a group copy", GROUP_PRIORITY),
        ("a control room copy", CONTROL_ROOM_PRIORITY),
        ("a handler's reply", None),
    ]:
        if priority is None:
            calls.append(asyncio.create_task(through(limiter, saying(heard, name), MEMBER)))
        else:
            with sending_at(priority):  # as the outbox worker sends a row
                calls.append(asyncio.create_task(through(limiter, saying(heard, name), GROUP)))
        assert lanes.overall is not None
        await until(lambda: lanes.overall is not None and lanes.overall.waiting == len(calls))
    await one_token_at_a_time(clock, heard, len(calls))
    await asyncio.gather(*calls)

    assert heard[1:] == ["a handler's reply", "a control room copy", "a group copy"]
    assert current_priority() == PRIVATE_PRIORITY, "the lane ends with the send"


async def test_retry_after_is_waited_out_by_that_chat_and_the_call_made_again() -> None:
    limiter = LaneRateLimiter(Lanes(per_second=0, per_group_minute=0), max_retries=2)
    tries = 0

    async def refused_once() -> dict[str, Any]:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise RetryAfter(timedelta(seconds=0))
        return {"message_id": 7}

    assert await through(limiter, refused_once, GROUP) == {"message_id": 7}
    assert tries == 2


async def test_retry_after_past_the_retries_goes_to_the_caller() -> None:
    limiter = LaneRateLimiter(Lanes(per_second=0, per_group_minute=0), max_retries=1)
    tries = 0

    async def always_refused() -> None:
        nonlocal tries
        tries += 1
        raise RetryAfter(timedelta(seconds=0))

    with pytest.raises(RetryAfter):
        await through(limiter, always_refused, GROUP)
    assert tries == 2, "the call and one retry"


async def test_calls_to_no_chat_are_not_counted() -> None:
    clock = Clock()
    lanes = Lanes(per_second=RATE, per_group_minute=0, burst_seconds=0, clock=clock)
    limiter = LaneRateLimiter(lanes, max_retries=0)
    heard: list[str] = []
    await through(limiter, saying(heard, "the last copy the token had room for"), GROUP)

    await through(limiter, saying(heard, "a button answered"), None)

    assert heard == ["the last copy the token had room for", "a button answered"]
