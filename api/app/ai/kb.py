"""The knowledge base: the project's own Markdown documents (docs/*.md) and the articles staff
write (``kb_articles``), cut into passages (one per section, long sections split at paragraphs) in
``kb_passages``. A document is reloaded only when its content changed; documents that disappeared
are removed. An article's passages (source ``kb:<id>``) are replaced or removed in the
transaction that writes the article; the document sync never touches them."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.text import digest
from app.config import REPO_ROOT
from app.models import KbPassage

DOCS_DIR = REPO_ROOT / "docs"
DOCS_PREFIX = "docs/"
ARTICLE_PREFIX = "kb:"
MAX_PASSAGE_CHARS = 1500
_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, slots=True)
class Passage:
    title: str
    body: str


def split_markdown(text: str, document_title: str) -> list[Passage]:
    """Sections as passages titled "Document / Section"; fenced code stays with its section."""
    passages: list[Passage] = []
    heading = document_title
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(lines).strip()
        lines.clear()
        if not body:
            return
        chunk: list[str] = []
        size = 0
        for paragraph in re.split(r"\n\s*\n", body):
            if chunk and size + len(paragraph) > MAX_PASSAGE_CHARS:
                passages.append(Passage(heading, "\n\n".join(chunk)))
                chunk, size = [], 0
            chunk.append(paragraph)
            size += len(paragraph)
        if chunk:
            passages.append(Passage(heading, "\n\n".join(chunk)))

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level, name = len(match.group(1)), match.group(2).strip()
            if level == 1:
                document_title = name
                heading = name
            else:
                heading = f"{document_title} / {name}"
            continue
        lines.append(line)
    flush()
    return passages


def read_docs(docs_dir: Path) -> list[tuple[str, str]]:
    """(source, text) of every docs_dir/*.md, sorted by name."""
    if not docs_dir.is_dir():
        return []
    return [
        (f"{DOCS_PREFIX}{path.name}", path.read_text(encoding="utf-8", errors="replace"))
        for path in sorted(docs_dir.glob("*.md"))
    ]


async def load_docs(session: AsyncSession, docs_dir: Path = DOCS_DIR) -> int:
    """Synchronise ``kb_passages`` with *docs_dir*/*.md; returns the number of files reloaded."""
    documents = await asyncio.to_thread(read_docs, docs_dir)
    rows = await session.execute(
        select(KbPassage.source, KbPassage.file_hash)
        .where(KbPassage.source.startswith(DOCS_PREFIX, autoescape=True))
        .distinct()
    )
    stored: dict[str, str] = dict(rows.all())
    present = {source for source, _ in documents}
    gone = [source for source in stored if source not in present]
    if gone:
        await session.execute(delete(KbPassage).where(KbPassage.source.in_(gone)))
    reloaded = 0
    for source, content in documents:
        file_hash = digest(content)
        if stored.get(source) == file_hash:
            continue
        await session.execute(delete(KbPassage).where(KbPassage.source == source))
        for position, passage in enumerate(
            split_markdown(content, source.removeprefix(DOCS_PREFIX).removesuffix(".md"))
        ):
            session.add(
                KbPassage(
                    source=source,
                    position=position,
                    title=passage.title[:300],
                    body=passage.body,
                    file_hash=file_hash,
                )
            )
        reloaded += 1
    await session.flush()
    return reloaded


def article_source(article_id: uuid.UUID) -> str:
    return f"{ARTICLE_PREFIX}{article_id}"


async def remove_article(session: AsyncSession, article_id: uuid.UUID) -> None:
    """Drop an article's passages (in the caller's transaction)."""
    await session.execute(delete(KbPassage).where(KbPassage.source == article_source(article_id)))


async def replace_article(
    session: AsyncSession, article_id: uuid.UUID, title: str, body: str
) -> int:
    """Replace an article's passages with its current text (in the caller's transaction); returns
    how many passages it now has. New passages carry no embedding: the ollama engine embeds them
    like any other passage, and full-text finds them meanwhile."""
    await remove_article(session, article_id)
    source = article_source(article_id)
    file_hash = digest(f"{title}\n\n{body}")
    passages = split_markdown(body, title) or [Passage(title, title)]
    for position, passage in enumerate(passages):
        session.add(
            KbPassage(
                source=source,
                position=position,
                title=passage.title[:300],
                body=passage.body,
                file_hash=file_hash,
            )
        )
    await session.flush()
    return len(passages)
