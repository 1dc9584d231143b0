"""The people side's own schedule: the watch that matches each new report against the
galleries after it is stored and puts what it finds to the coordinators
(`broadcast.subjects.watch`). The subjects' handlers, nightly run and digest stay
where they were registered before subjects had a plugin (`bot.app`, `bot.jobs`)."""

from __future__ import annotations

from telegram.ext import JobQueue

from bot.plugins.base import Assembly, Plugin
from broadcast.subjects.watch import WATCH_EVERY, SubjectWatch
from handlers.context import ShopWatchContext
from storage.models import utcnow

WATCH_JOB = "subjects:watch"


class SubjectsPlugin(Plugin):
    name = "subjects"

    def __init__(self, assembly: Assembly) -> None:
        self.watch = SubjectWatch(
            assembly.store, assembly.photos, assembly.signer, wake=assembly.wake
        )

    def schedule(self, jobs: JobQueue[ShopWatchContext]) -> None:
        async def watch_job(context: ShopWatchContext) -> None:
            await self.watch.run(utcnow())

        jobs.run_repeating(watch_job, interval=WATCH_EVERY, first=WATCH_EVERY, name=WATCH_JOB)
