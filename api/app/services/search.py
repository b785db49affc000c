"""Ticket search: what a query matches, and the plan that finds the newest matches fast.

What matches (``terms``): the words are read by PostgreSQL's ``websearch_to_tsquery`` with the
``simple`` configuration (quotes make a phrase, ``-word`` excludes, ``or`` alternates), and the
last word, the one still being typed, matches as a prefix when it has three characters or more
(``print`` finds "Printer", ``vpn disconnect`` finds "VPN disconnects"); a number or a shorter word
matches whole. Only the last: a prefix on every word made codes such as ``ERR-4242`` (whose parts
the parser indexes too) match every "error", and multiplied the index's work. ``simple`` keeps the
search language-neutral: customers write in many languages, and a stemmer of the wrong language
would mangle the words; the prefix covers most inflections of English and German (plurals, -ed,
-ing, -s, -en, compounds that begin with the word). A ticket matches when its number, title and
description hold the query, or one of its comments the caller may see does (customers: public
replies; staff: internal notes too — ``visibility.visible_comments``), and, for staff only, when
the requester's name or e-mail or the organization's name does. ``#1042`` is the ticket number 1042
alone; ``1042`` is the number or the word.

How (``newest``): a search list is newest first. PostgreSQL estimates how many tickets a word
matches from a sample, and with ORDER BY … LIMIT a wrong guess is expensive either way: walking
the created_at index for a rare word reads the whole table, collecting every match of a common
word through the GIN index reads thousands of rows to keep fifty. So the statement decides from
the data itself, in two steps written so the planner has one choice each:

1. *walk*: the newest ``WINDOW`` tickets of the list (its filters, its page) through the list's
   own index, each checked against the query. A word in at least ``limit`` of them is common:
   those are already the newest matches, and the statement ends here.
2. *collect* (only when the walk found fewer than ``limit`` and the list is longer than the
   window): the matches through the GIN indexes (the tickets' document, the comments' document,
   the requester and organization names), sorted by created_at, the first ``limit`` kept.

Both steps sit in one statement; a one-time filter on the walk's count skips the step not needed
(tests/test_query_plans.py shows both shapes, and which one ran, with EXPLAIN ANALYZE).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Subquery,
    Text,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from app.auth.deps import CurrentUser
from app.models import Organization, Ticket, TicketComment, User
from app.services.visibility import visible_comments

# How many of the list's newest tickets the walk checks before it collects through the indexes
# instead. A word in one ticket of WINDOW / limit (2 % at 1,000 and 50 per page) or more is found
# by the walk; a rarer one costs its matches, at most a few percent of the tickets.
WINDOW = 1000
# Written into the statement (a parameter would leave a generic plan guessing the window's size).
_WINDOW: Any = literal_column(str(WINDOW))

_NUMBER = re.compile(r"#\s*(\d{1,18})")

_SIMPLE: Any = literal_column("'simple'::regconfig")
# The last lexeme of the query's text form ('vpn' & 'disconnect') gains a prefix mark, and loses
# it again when it is all digits or shorter than three characters (a ticket number matches whole;
# 'o:*' would match half the dictionary).
_LAST_LEXEME: Any = literal_column(r"'''((?:[^'']|'''')*)''([^'']*)$'")
_PREFIXED: Any = literal_column(r"'''\1'':*\2'")
_SHORT_OR_NUMBER: Any = literal_column(r"'''([[:digit:]]+|(?:[^'']|''''){1,2})'':\*'")
_WHOLE: Any = literal_column(r"'''\1'''")
_GLOBAL: Any = literal_column("'g'")
_ZERO: Any = literal_column("0")


def parse(q: str | None) -> tuple[str | None, Any]:
    """The kind of search *q* asks for and its value: (None, "") for no search, ("number", N)
    for ``#N``, ("text", q) for words."""
    q = (q or "").strip()
    if not q:
        return None, ""
    number = _NUMBER.fullmatch(q)
    if number:
        return "number", int(number.group(1))
    return "text", q


def tsquery() -> ColumnElement[Any]:
    """The query of the bound ``q``, computed once per statement (an InitPlan), never per row."""
    words = func.websearch_to_tsquery(_SIMPLE, bindparam("q", type_=Text))
    text = func.regexp_replace(cast(words, Text), _LAST_LEXEME, _PREFIXED)
    text = func.regexp_replace(text, _SHORT_OR_NUMBER, _WHOLE, _GLOBAL)
    return select(cast(text, TSQUERY)).scalar_subquery()


def _requesters(q: ColumnElement[Any]) -> Select[Any]:
    """Users whose name or e-mail holds the query (users.search, GIN-indexed)."""
    return select(User.id).where(User.search.op("@@")(q))


def _organizations(q: ColumnElement[Any]) -> Select[Any]:
    """Organizations whose name holds the query (a few hundred rows: read whole)."""
    return select(Organization.id).where(func.to_tsvector(_SIMPLE, Organization.name).op("@@")(q))


def _commented(actor: CurrentUser, q: ColumnElement[Any]) -> Select[Any]:
    """The tickets with a comment *actor* may see that holds the query (through the comments'
    GIN index)."""
    return (
        visible_comments(actor)
        .with_only_columns(TicketComment.ticket_id)
        .where(TicketComment.search.op("@@")(q))
    )


def matches(actor: CurrentUser, ticket: Any) -> ColumnElement[bool]:
    """The whole match of one ticket row, checked row by row (*ticket*: ``Ticket`` or the
    columns of a subquery of tickets): for the walk, the due-date order and anything else that
    reads tickets in an order of its own."""
    q = tsquery()
    # Row by row: the ticket's own comments through ix_ticket_comments_ticket_created, their
    # words checked with ts_match_vq (the function behind @@, which no index serves: a GIN scan
    # per ticket costs milliseconds); OFFSET 0 keeps PostgreSQL from turning the EXISTS into a
    # hashed subplan (which reads every comment holding a common word).
    comment = exists(
        visible_comments(actor)
        .with_only_columns(TicketComment.id)
        .where(TicketComment.ticket_id == ticket.id, func.ts_match_vq(TicketComment.search, q))
        .offset(_ZERO)
    )
    # Cheapest first (OR stops at the first true arm): the ticket's own document, the requester
    # and organization (each a small set computed once), then its comments.
    arms = [ticket.search.op("@@")(q)]
    if actor.is_staff:
        arms += [ticket.created_by.in_(_requesters(q)), ticket.org_id.in_(_organizations(q))]
    return or_(*arms, comment)


def collected(actor: CurrentUser, filtered: Select[Any]) -> CompoundSelect[Any]:
    """Step 2: every match among *filtered* (the list's tickets), as (id, created_at), through
    the indexes: each way of matching is its own arm, so each can use its index."""
    q = tsquery()
    pick = filtered.with_only_columns(Ticket.id, Ticket.created_at)
    # The comment arm starts from its matches, handed over as an array (an InitPlan): the tickets
    # are then looked up by key, one index probe per match. As IN (subquery) PostgreSQL guesses
    # the matches of a query it cannot see at planning time (0.5 % of the comments: 25,000 at
    # 1 M tickets) and hashes them against every ticket of the list instead: 130-200 ms for a
    # word in 72 comments, measured at 1 M tickets. (The requesters are few against the users'
    # own statistics: their IN becomes a loop over ix_tickets_created_by_created.)
    arms = [
        pick.where(Ticket.search.op("@@")(q)),
        pick.where(Ticket.id == any_(func.array(_commented(actor, q).scalar_subquery()))),
    ]
    if actor.is_staff:
        arms += [
            pick.where(Ticket.created_by.in_(_requesters(q))),
            pick.where(Ticket.org_id.in_(_organizations(q))),
        ]
    return union(*arms)


def newest(actor: CurrentUser, filtered: Select[Any], limit: ColumnElement[Any]) -> Subquery:
    """The ids of the newest *limit* matches among *filtered* (the list's tickets: its filters,
    visibility and page), by the two steps of the module's docstring."""
    order = (Ticket.created_at.desc(), Ticket.id.desc())
    window = (
        filtered.with_only_columns(
            Ticket.id, Ticket.created_at, Ticket.search, Ticket.created_by, Ticket.org_id
        )
        .order_by(*order)
        .limit(_WINDOW)
        .subquery("window")
    )
    walked = (
        select(window.c.id, window.c.created_at)
        .where(matches(actor, window.c))
        .order_by(window.c.created_at.desc(), window.c.id.desc())
        .limit(limit)
        .cte("walked")
        .prefix_with("MATERIALIZED")
    )
    listed = filtered.with_only_columns(Ticket.id).order_by(*order).limit(_WINDOW).subquery()
    found = select(func.count()).select_from(walked).scalar_subquery()
    seen = select(func.count()).select_from(listed).scalar_subquery()
    # The walk settled it: enough matches, or the whole list was walked.
    # Decided once (a CTE read by both branches' one-time filters).
    decision = select(or_(found >= limit, seen < _WINDOW).label("settled")).cte("decision")
    settled = select(decision.c.settled).scalar_subquery()
    everything = collected(actor, filtered).cte("collected").prefix_with("MATERIALIZED")
    gathered = (
        select(everything.c.id, everything.c.created_at)
        .order_by(everything.c.created_at.desc(), everything.c.id.desc())
        .limit(limit)
        .subquery("gathered")
    )
    return union_all(
        select(walked.c.id).where(settled),
        select(gathered.c.id).where(~settled),
    ).subquery("hits")
