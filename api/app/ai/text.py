"""Pure text helpers of the lexical engine: terms, full-text queries, the extractive summary."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}|\n(?=[-*•]\s)")
MAX_QUERY_TERMS = 40
SUMMARY_SENTENCES = 2
SUMMARY_MAX_CHARS = 600

# Words that say nothing about what a ticket is about (English plus helpdesk filler). The search
# document uses the language-neutral 'simple' configuration, so the query has to drop them.
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can cannot could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours yourself yourselves
    hello hi dear thanks thank please regards best team help issue problem ticket since today
    yesterday still again get got getting see seems seem anyone someone something
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def terms(text: str) -> list[str]:
    """Lower-cased content words of *text* (at least 3 characters, no stopwords, no numbers)."""
    return [
        w
        for w in (m.group(0).lower() for m in _WORD.finditer(text))
        if len(w) >= 3 and w not in STOPWORDS and not w.isdigit()
    ]


def or_query(text: str, limit: int = MAX_QUERY_TERMS) -> str | None:
    """A ``to_tsquery`` text matching any of *text*'s most frequent content words, or None.

    Every term is ``\\w+`` only and single-quoted, so nothing in it is tsquery syntax."""
    counted = Counter(terms(text))
    if not counted:
        return None
    chosen = [w for w, _ in counted.most_common(limit)]
    return " | ".join(f"'{w}'" for w in chosen)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and len(s.strip()) > 2]


def extractive_summary(title: str, body: str) -> str:
    """The title plus the description's most representative sentences (by content-word
    frequency, in their original order)."""
    parts = sentences(body)
    if not parts:
        return title.strip()
    freq = Counter(terms(f"{title} {body}"))

    def score(sentence: str) -> float:
        words = terms(sentence)
        return sum(freq[w] for w in words) / (1 + len(words)) ** 0.5 if words else 0.0

    best = sorted(range(len(parts)), key=lambda i: (-score(parts[i]), i))[:SUMMARY_SENTENCES]
    chosen = " ".join(parts[i] for i in sorted(best))
    summary = f"{title.strip()}: {chosen}" if title.strip() else chosen
    if len(summary) > SUMMARY_MAX_CHARS:
        summary = summary[: SUMMARY_MAX_CHARS - 1].rstrip() + "…"
    return summary


def excerpt(body: str, limit: int = 400) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
