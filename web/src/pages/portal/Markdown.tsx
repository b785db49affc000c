/**
 * Knowledge-base Markdown (CommonMark) as React elements, rendered by react-markdown. Safe by
 * construction:
 * - no HTML is ever parsed: raw HTML in an article shows as text (no rehype-raw, ever);
 * - only the elements CommonMark produces are allowed;
 * - a link only becomes a link for http(s), mailto or a same-site path (`/…`, not `//…`);
 *   anything else (javascript:, data:, protocol-relative…) is plain text;
 * - images are never loaded (no request to wherever an article points): their alt text is shown.
 */
import { useMemo, type ComponentPropsWithoutRef } from "react";
import ReactMarkdown, { type Components, type ExtraProps, type UrlTransform } from "react-markdown";
import "./Markdown.css";

const SAFE_HREF = /^(?:https?:\/\/|mailto:|\/(?![/\\]))/i;
// Browsers drop tabs and newlines inside URLs ("/\t/evil" is "//evil"): refuse any control
// character or whitespace rather than guess what a browser would make of it.
const UNSAFE_CHAR = /[\u0000-\u0020\u007f\\]/;

/** The href a link may keep, or null: the only URL attribute that survives (images get none). */
export function safeHref(url: string): string | null {
  return SAFE_HREF.test(url) && !UNSAFE_CHAR.test(url) ? url : null;
}

const urlTransform: UrlTransform = (url, key) => (key === "href" ? safeHref(url) : null);

const ALLOWED = [
  "p",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "ul",
  "ol",
  "li",
  "blockquote",
  "pre",
  "code",
  "strong",
  "em",
  "a",
  "img",
  "hr",
  "br",
];

type HeadingTag = "h2" | "h3" | "h4" | "h5" | "h6";
export type HeadingLevel = 2 | 3 | 4 | 5 | 6;

function SafeLink({ href, children }: ComponentPropsWithoutRef<"a"> & ExtraProps) {
  const safe = href ? safeHref(href) : null;
  if (!safe) return <span>{children}</span>;
  return (
    <a href={safe} rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

/** An image is never fetched: its description stands in its place (nothing when it has none). */
function ImageText({ alt }: ComponentPropsWithoutRef<"img"> & ExtraProps) {
  return alt ? <span className="kb-md__image">{alt}</span> : null;
}

function Pre({ children }: ComponentPropsWithoutRef<"pre"> & ExtraProps) {
  return <pre className="kb-md__code">{children}</pre>;
}

/** `# x` becomes an h{headingLevel}, `## x` the level below, never deeper than h6. */
function components(headingLevel: HeadingLevel): Components {
  const heading = (level: number) => {
    const Tag = `h${Math.min(level + headingLevel - 1, 6)}` as HeadingTag;
    return function Heading({ children }: ComponentPropsWithoutRef<"h1"> & ExtraProps) {
      return <Tag className="kb-md__heading">{children}</Tag>;
    };
  };
  return {
    h1: heading(1),
    h2: heading(2),
    h3: heading(3),
    h4: heading(4),
    h5: heading(5),
    h6: heading(6),
    a: SafeLink,
    img: ImageText,
    pre: Pre,
  };
}

export interface MarkdownProps {
  source: string;
  className?: string;
  /** The level of the article's top headings: the page's own title is the h1, so 2 by default. */
  headingLevel?: HeadingLevel;
}

export function Markdown({ source, className, headingLevel = 2 }: MarkdownProps) {
  const mapped = useMemo(() => components(headingLevel), [headingLevel]);
  return (
    <div className={["kb-md", className].filter(Boolean).join(" ")}>
      <ReactMarkdown
        allowedElements={ALLOWED}
        unwrapDisallowed
        urlTransform={urlTransform}
        components={mapped}
      >
        {source}
      </ReactMarkdown>
    </div>
  );
}
