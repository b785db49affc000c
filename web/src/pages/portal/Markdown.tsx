/**
 * Knowledge-base Markdown as React elements: headings, paragraphs, lists, quotes, fenced code,
 * inline code, bold, italic and links. Safe by construction: nothing is ever parsed as HTML
 * (raw HTML in an article shows as text), and a link only becomes a link for http(s), mailto or
 * a same-site path.
 */
import type { ReactNode } from "react";

type Block =
  | { kind: "heading"; level: number; text: string }
  | { kind: "paragraph"; text: string }
  | { kind: "list"; ordered: boolean; items: string[] }
  | { kind: "quote"; text: string }
  | { kind: "code"; text: string };

const FENCE = /^\s*(```|~~~)/;
const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d{1,9}[.)]\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;
const SAFE_HREF = /^(https?:\/\/|mailto:|\/(?!\/))/i;

export function parseBlocks(source: string): Block[] {
  const blocks: Block[] = [];
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const at = (n: number): string => lines[n] ?? "";
  const plain = (line: string) =>
    line.trim() !== "" && ![FENCE, HEADING, BULLET, NUMBERED, QUOTE].some((pattern) => pattern.test(line));
  let i = 0;
  while (i < lines.length) {
    const line = at(i);
    const fence = FENCE.exec(line);
    const heading = HEADING.exec(line);
    if (!line.trim()) {
      i += 1;
    } else if (fence) {
      const marker = fence[1] ?? "```";
      const code: string[] = [];
      i += 1;
      while (i < lines.length && !at(i).trim().startsWith(marker)) code.push(at(i++));
      i += 1;
      blocks.push({ kind: "code", text: code.join("\n") });
    } else if (heading) {
      blocks.push({ kind: "heading", level: (heading[1] ?? "#").length, text: heading[2] ?? "" });
      i += 1;
    } else if (NUMBERED.test(line) || BULLET.test(line)) {
      const ordered = NUMBERED.test(line);
      const pattern = ordered ? NUMBERED : BULLET;
      const items: string[] = [];
      while (i < lines.length && at(i).trim()) {
        const item = pattern.exec(at(i));
        if (item) items.push(item[1] ?? "");
        else if (items.length) items[items.length - 1] += ` ${at(i).trim()}`;
        i += 1;
      }
      blocks.push({ kind: "list", ordered, items });
    } else if (QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(at(i))) quoted.push(QUOTE.exec(at(i++))?.[1] ?? "");
      blocks.push({ kind: "quote", text: quoted.join(" ") });
    } else {
      const paragraph: string[] = [];
      while (i < lines.length && plain(at(i))) paragraph.push(at(i++).trim());
      blocks.push({ kind: "paragraph", text: paragraph.join(" ") });
    }
  }
  return blocks;
}

// `code`, **bold**, __bold__, *em*, _em_, [text](href): the first match wins, left to right.
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s](?:[^*]*[^*\s])?)\*|(?<![\w])_([^_\s](?:[^_]*[^_\s])?)_(?![\w])|\[([^\]]+)\]\(([^)\s]+)\)/;

export function renderInline(text: string, key = "i"): ReactNode[] {
  const out: ReactNode[] = [];
  let rest = text;
  let n = 0;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    const k = `${key}.${n++}`;
    const [, code, strong1, strong2, em1, em2, label, href] = m;
    const strong = strong1 ?? strong2;
    const em = em1 ?? em2;
    if (code !== undefined) out.push(<code key={k}>{code}</code>);
    else if (strong !== undefined) out.push(<strong key={k}>{renderInline(strong, k)}</strong>);
    else if (em !== undefined) out.push(<em key={k}>{renderInline(em, k)}</em>);
    else if (href !== undefined && SAFE_HREF.test(href)) {
      out.push(
        <a key={k} href={href} rel="noopener noreferrer nofollow">
          {renderInline(label ?? href, k)}
        </a>,
      );
    } else out.push(<span key={k}>{renderInline(label ?? "", k)}</span>);
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

function Heading({ level, children }: { level: number; children: ReactNode }) {
  // The page's own title is the h1: article headings start one level below it.
  const shifted = Math.min(level + 1, 6);
  const Tag = `h${shifted}` as "h2" | "h3" | "h4" | "h5" | "h6";
  return <Tag className="kb-md__heading">{children}</Tag>;
}

export function Markdown({ source, className }: { source: string; className?: string }) {
  return (
    <div className={["kb-md", className].filter(Boolean).join(" ")}>
      {parseBlocks(source).map((block, i) => {
        const key = `b${i}`;
        switch (block.kind) {
          case "heading":
            return (
              <Heading key={key} level={block.level}>
                {renderInline(block.text, key)}
              </Heading>
            );
          case "code":
            return (
              <pre key={key} className="kb-md__code">
                <code>{block.text}</code>
              </pre>
            );
          case "quote":
            return <blockquote key={key}>{renderInline(block.text, key)}</blockquote>;
          case "list": {
            const items = block.items.map((item, j) => <li key={`${key}.${j}`}>{renderInline(item, `${key}.${j}`)}</li>);
            return block.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>;
          }
          default:
            return <p key={key}>{renderInline(block.text, key)}</p>;
        }
      })}
    </div>
  );
}
