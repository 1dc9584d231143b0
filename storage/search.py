"""Searching the log and opening one report, each recorded in the audit trail.

The search runs on `search_document` (migration 0003), which triggers keep in
step with reports, events and photos; its words are indexed by FTS5 on SQLite
and by a tsvector with a GIN index on PostgreSQL. Both receive the same words,
already cut by `storage.query`, as quoted prefixes: a person's text is never
query syntax, so `OR`, `*` or a stray quote cannot change what is asked.

Who sees what is decided here, not in the handler: a `SearchScope` is one
scheme, or only one member's own reports in it, and a report outside the scope
is "not found" whether or not it exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import UTCDateTime

from config.errors import NotFoundError
from config.vocabulary import AuditOutcome, Role
from storage.audit import AuditLog
from storage.ids import stored_id
from storage.models import AuditEntry, Member, Photo, Report, ReportEvent, Scheme, utcnow
from storage.query import SearchQuery, matches, parse_query, spellings
from storage.transaction import transaction

logger = logging.getLogger(__name__)

PAGE_SIZE = 5
# How many of the newest candidates have their words checked before the word index is
# asked: on SQLite that check is Python's, on PostgreSQL the database's own.
PROBES = {"sqlite": (200,), "postgresql": (200, 2000)}
# Matches SQLite looks up one by one rather than walking the scheme's index past them.
FEW_MATCHES = 5000
SEARCH_ACTION = "search"
VIEW_ACTION = "view"

# Not a model: migration 0003 creates it (with backend-specific extras) and
# triggers fill it. Declared here only to build queries against it.
search_document = Table(
    "search_document",
    MetaData(),
    Column("report_id", Integer, primary_key=True),
    Column("scheme_id", Integer, nullable=False),
    Column("member_id", Integer),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("category", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("police_reference", String),
    Column("has_photo", Boolean, nullable=False),
    Column("report_text", Text, nullable=False),
    Column("event_text", Text, nullable=False),
    Column("tsv", TSVECTOR),  # PostgreSQL only
)
_search_fts = table("search_fts", column("rowid", Integer))  # SQLite only


@dataclass(frozen=True)
class _Plan:
    probes: tuple[int, ...] | None
    few_matches: int


@dataclass(frozen=True)
class SearchScope:
    """The reports a person may search and open: their scheme's, or only their own."""

    scheme_id: int
    timezone: str
    member_id: int | None = None

    @classmethod
    def of(cls, member: Member, scheme: Scheme) -> SearchScope:
        """Members see what they reported; operators, coordinators and police the scheme's."""
        own_only = member.role == Role.MEMBER
        return cls(stored_id(scheme), scheme.timezone, member.id if own_only else None)

    def covers(self, report: Report) -> bool:
        if report.scheme_id != self.scheme_id:
            return False
        return self.member_id is None or report.member_id == self.member_id


@dataclass(frozen=True)
class Hit:
    report: Report
    reporter: Member | None
    photos: int


@dataclass(frozen=True)
class SearchPage:
    """One page of results; `search_id` names the search (its audit entry) for paging."""

    search_id: int
    query: SearchQuery
    page: int
    hits: list[Hit]
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def first_number(self) -> int:
        return self.page * PAGE_SIZE + 1


@dataclass(frozen=True)
class TimelineEntry:
    event: ReportEvent
    by: Member | None


@dataclass(frozen=True)
class ReportFile:
    """Everything one report holds, for the person who opened it."""

    report: Report
    reporter: Member | None
    timeline: list[TimelineEntry]
    photos: list[Photo]


def fts5_match(words: tuple[str, ...]) -> str:
    """Every word as a quoted prefix, or its spellings as alternatives: FTS5 reads nothing
    inside quotes as an operator."""

    def one(word: str) -> str:
        spelt = [f'"{variant}"*' for variant in spellings(word)]
        return spelt[0] if len(spelt) == 1 else "(" + " OR ".join(spelt) + ")"

    return " AND ".join(one(word) for word in words)


def tsquery(words: tuple[str, ...]) -> str:
    """Every word as a quoted prefix lexeme (or its spellings as alternatives), all required."""

    def one(word: str) -> str:
        quoted = (v.replace("\\", "\\\\").replace("'", "''") for v in spellings(word))
        spelt = [f"'{variant}':*" for variant in quoted]
        return spelt[0] if len(spelt) == 1 else "(" + " | ".join(spelt) + ")"

    return " & ".join(one(word) for word in words)


class ReportSearch:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        audit: AuditLog,
        *,
        probes: tuple[int, ...] | None = None,
        few_matches: int = FEW_MATCHES,
    ) -> None:
        """`probes` and `few_matches` tune the plan (see `_matching_ids`); tests vary them."""
        self._sessions = sessions
        self._audit = audit
        self._plan = _Plan(probes, few_matches)

    async def search(
        self,
        query: SearchQuery,
        scope: SearchScope,
        *,
        actor: int,
        actor_member_id: int | None = None,
        page: int = 0,
        now: datetime | None = None,
    ) -> SearchPage:
        """Run a new search and audit it; `now` is the moment `since:` was counted from."""
        hits, has_next = await self._run(query, scope, page)
        entry = await self._audit.record(
            actor,
            SEARCH_ACTION,
            AuditOutcome.ALLOWED,
            scheme_id=scope.scheme_id,
            actor_member_id=actor_member_id,
            detail={
                "query": query.text,
                "now": (now or utcnow()).isoformat(),
                "page": page,
                "shown": [hit.report.id for hit in hits],
            },
        )
        return SearchPage(stored_id(entry), query, page, hits, has_next)

    async def page(
        self,
        search_id: int,
        page: int,
        scope: SearchScope,
        *,
        actor: int,
        actor_member_id: int | None = None,
    ) -> SearchPage:
        """Another page of an earlier search by the same person; audited like the first.

        The query is read back from the audit entry and counted from the same
        moment, so pages do not shift under the reader. A search that is not
        theirs, or not in this scope, is not found.
        """
        async with transaction(self._sessions, "read the search") as session:
            entry = await session.get(AuditEntry, search_id)
        if (
            entry is None
            or entry.action != SEARCH_ACTION
            or entry.outcome != AuditOutcome.ALLOWED
            or entry.actor_telegram_id != actor
            or entry.scheme_id != scope.scheme_id
            or "search" in entry.detail
            or not isinstance(entry.detail.get("query"), str)
            or page < 0
        ):
            raise NotFoundError(f"no search {search_id} for this person")
        now = datetime.fromisoformat(str(entry.detail["now"]))
        query = parse_query(entry.detail["query"], now=now, timezone=scope.timezone)
        hits, has_next = await self._run(query, scope, page)
        await self._audit.record(
            actor,
            SEARCH_ACTION,
            AuditOutcome.ALLOWED,
            scheme_id=scope.scheme_id,
            actor_member_id=actor_member_id,
            detail={
                "search": search_id,
                "query": query.text,
                "page": page,
                "shown": [hit.report.id for hit in hits],
            },
        )
        return SearchPage(search_id, query, page, hits, has_next)

    async def open(
        self,
        report_id: int,
        scope: SearchScope,
        *,
        actor: int,
        actor_member_id: int | None = None,
        via: str,
    ) -> ReportFile:
        """The whole report, if the scope covers it; every opening is audited, refusals too."""
        file: ReportFile | None = None
        async with transaction(self._sessions, "read the report") as session:
            report = await session.get(Report, report_id)
            if report is not None and scope.covers(report):
                file = await _file(session, report)
        if file is None:
            await self._audit.record(
                actor,
                VIEW_ACTION,
                AuditOutcome.REFUSED,
                scheme_id=scope.scheme_id,
                actor_member_id=actor_member_id,
                detail={"report": report_id, "via": via, "reason": "not_found"},
            )
            raise NotFoundError(f"no report {report_id} in this scope")
        await self._audit.record(
            actor,
            VIEW_ACTION,
            AuditOutcome.ALLOWED,
            scheme_id=scope.scheme_id,
            actor_member_id=actor_member_id,
            detail={"report": report_id, "via": via},
        )
        return file

    async def matching_ids(
        self, query: SearchQuery, scope: SearchScope, *, limit: int, offset: int = 0
    ) -> list[int]:
        """Report ids only, newest first, unaudited: for tests and benchmarks of the index."""
        async with transaction(self._sessions, "search the log") as session:
            return await _matching_ids(
                session, query, scope, limit=limit, offset=offset, plan=self._plan
            )

    async def _run(
        self, query: SearchQuery, scope: SearchScope, page: int
    ) -> tuple[list[Hit], bool]:
        async with transaction(self._sessions, "search the log") as session:
            ids = await _matching_ids(
                session,
                query,
                scope,
                limit=PAGE_SIZE + 1,
                offset=page * PAGE_SIZE,
                plan=self._plan,
            )
            hits = await _hits(session, ids[:PAGE_SIZE])
        return hits, len(ids) > PAGE_SIZE


async def _matching_ids(
    session: AsyncSession,
    query: SearchQuery,
    scope: SearchScope,
    *,
    limit: int,
    offset: int,
    plan: _Plan,
) -> list[int]:
    """Ids of the matching reports, newest first.

    Common words are found fastest by walking the scope's reports newest first
    and checking each one's words: the first page is among the latest few
    hundred, while asking the word index first would decode every report that
    ever said "grey". So the newest `PROBES` candidates are checked first, and
    only words too rare to fill the page there go to the index, whose answer is
    then small. Either way the answer is the same: on SQLite the probe cuts
    words in Python exactly as FTS5 does (`storage.query.words_of`), and
    tests/test_search_index.py runs the shared query table through every path.
    """
    document = search_document.c
    conditions = await _filters(session, query, scope)
    newest_first = (document.occurred_at.desc(), document.report_id.desc())
    if not query.words:
        statement = (
            select(document.report_id)
            .where(*conditions)
            .order_by(*newest_first)
            .limit(limit)
            .offset(offset)
        )
        return [int(report_id) for report_id in (await session.exec(statement)).all()]
    backend = session.get_bind().dialect.name
    postgres = backend == "postgresql"
    wanted = offset + limit
    for probe in PROBES[backend] if plan.probes is None else plan.probes:
        recent = (
            select(document.report_id, _words_column(query.words, postgres=postgres))
            .where(*conditions)
            .order_by(*newest_first)
            .limit(probe)
        )
        rows = (await session.exec(recent)).all()
        found = [
            int(report_id)
            for report_id, said in rows
            if (said if postgres else matches(said, query.words))
        ]
        if len(found) >= wanted or len(rows) < probe:
            return found[offset:wanted]
    statement = (
        select(document.report_id)
        .where(*await _words_first(session, conditions, query, scope, plan, postgres=postgres))
        .order_by(*newest_first)
        .limit(limit)
        .offset(offset)
    )
    return [int(report_id) for report_id in (await session.exec(statement)).all()]


def _scope_conditions(scope: SearchScope, *, hidden: bool = False) -> list[ColumnElement[bool]]:
    """`hidden` keeps SQLite from using the scheme and member indexes (`+ 0`)."""
    document = search_document.c
    scheme = document.scheme_id + 0 if hidden else document.scheme_id
    conditions: list[ColumnElement[bool]] = [scheme == scope.scheme_id]
    if scope.member_id is not None:
        member = document.member_id + 0 if hidden else document.member_id
        conditions.append(member == scope.member_id)
    return conditions


async def _filters(
    session: AsyncSession, query: SearchQuery, scope: SearchScope, *, hidden: bool = False
) -> list[ColumnElement[bool]]:
    document = search_document.c
    conditions = _scope_conditions(scope, hidden=hidden)
    if query.shop is not None:
        conditions.append(document.member_id.in_(await _shop_members(session, query, scope)))
    if query.categories:
        conditions.append(document.category.in_(sorted(c.value for c in query.categories)))
    if query.statuses:
        conditions.append(document.status.in_(sorted(s.value for s in query.statuses)))
    if query.has_photo:
        conditions.append(document.has_photo.is_(True))
    if query.since is not None:
        conditions.append(document.occurred_at >= query.since)
    if query.until is not None:
        conditions.append(document.occurred_at < query.until)
    if query.police_reference is not None:
        conditions.append(document.police_reference == query.police_reference)
    return conditions


def _words_column(words: tuple[str, ...], *, postgres: bool) -> ColumnElement[Any]:
    """What a candidate's words are checked on: the tsvector test itself, or its text."""
    document = search_document.c
    if postgres:
        return document.tsv.bool_op("@@")(cast(bindparam("words", tsquery(words)), TSQUERY))
    return document.report_text + " " + document.event_text


async def _words_first(
    session: AsyncSession,
    conditions: list[ColumnElement[bool]],
    query: SearchQuery,
    scope: SearchScope,
    plan: _Plan,
    *,
    postgres: bool,
) -> list[ColumnElement[bool]]:
    """The filters with the word index in front, for words the probes found rare.

    Left to themselves both databases walk the scheme's index newest first,
    testing each row: what the probes just did, in vain. PostgreSQL therefore
    takes the matches from the GIN index on their own first. SQLite asks FTS5
    for at most `FEW_MATCHES` + 1 of them: when that is all there are, it looks
    just those up, with the scheme and member indexes hidden (`+ 0`) so the
    planner cannot walk them; when there are more, the words are common but not
    in this scope's latest reports, and walking the scope's index past them is
    quicker than looking up and sorting every match.
    """
    document = search_document.c
    if postgres:
        matching_ids = (
            select(document.report_id)
            .where(_words_column(query.words, postgres=True))
            .cte("matching")
            .prefix_with("MATERIALIZED")
        )
        return [*conditions, document.report_id.in_(select(matching_ids.c.report_id))]
    matching = select(_search_fts.c.rowid).where(
        column("search_fts").bool_op("MATCH")(bindparam("words", fts5_match(query.words)))
    )
    few = list((await session.exec(matching.limit(plan.few_matches + 1))).all())
    if len(few) > plan.few_matches:
        # `+ 0` keeps SQLite from starting at the matches after all.
        return [*conditions, (document.report_id + 0).in_(matching)]
    unscoped = conditions[len(_scope_conditions(scope)) :]
    return [*_scope_conditions(scope, hidden=True), *unscoped, document.report_id.in_(few)]


async def _shop_members(
    session: AsyncSession, query: SearchQuery, scope: SearchScope
) -> list[int]:
    """Members whose shop name contains the words asked for, compared in Python.

    Case-insensitive the same way on both databases (SQLite's lower() knows only ASCII).
    """
    members = await session.exec(
        select(Member.id, Member.shop_name).where(
            Member.scheme_id == scope.scheme_id, col(Member.shop_name).is_not(None)
        )
    )
    wanted = query.shop or ""
    return [
        member_id
        for member_id, shop in members.all()
        if member_id is not None and wanted in (shop or "").casefold()
    ]


async def _hits(session: AsyncSession, ids: list[int]) -> list[Hit]:
    if not ids:
        return []
    rows = await session.exec(
        select(Report, Member)
        .outerjoin(Member, col(Member.id) == col(Report.member_id))
        .where(col(Report.id).in_(ids))
    )
    found: dict[int, tuple[Report, Member | None]] = {
        stored_id(report): (report, member) for report, member in rows.all()
    }
    counts = await session.exec(
        select(Photo.report_id, func.count())
        .where(col(Photo.report_id).in_(ids))
        .group_by(col(Photo.report_id))
    )
    photos: dict[Any, int] = dict(counts.all())
    return [
        Hit(found[report_id][0], found[report_id][1], photos.get(report_id, 0))
        for report_id in ids
        if report_id in found
    ]


async def _file(session: AsyncSession, report: Report) -> ReportFile:
    reporter = await session.get(Member, report.member_id) if report.member_id else None
    events = await session.exec(
        select(ReportEvent, Member)
        .outerjoin(Member, col(Member.id) == col(ReportEvent.member_id))
        .where(ReportEvent.report_id == report.id)
        .order_by(col(ReportEvent.created_at), col(ReportEvent.id))
    )
    photos = await session.exec(
        select(Photo).where(Photo.report_id == report.id).order_by(col(Photo.id))
    )
    return ReportFile(
        report=report,
        reporter=reporter,
        timeline=[TimelineEntry(event, by) for event, by in events.all()],
        photos=list(photos.all()),
    )
