/**
 * A small hand-drawn glyph set (24×24, stroke = currentColor). Decorative by default
 * (aria-hidden); pass `label` when the glyph alone carries meaning.
 */
const PATHS = {
  inbox: "M4 13l2.5-7h11L20 13M4 13v5h16v-5M4 13h4.5l1.5 2.5h4l1.5-2.5H20",
  ticket: "M4 7h16v3a2 2 0 000 4v3H4v-3a2 2 0 000-4zM14 7v10",
  dashboard: "M4 20V10M10 20V4M16 20v-7M22 20H2",
  settings:
    "M12 15a3 3 0 100-6 3 3 0 000 6zM19.4 15a1.7 1.7 0 00.3 1.9l.1.1a2 2 0 11-2.8 2.8l-.1-.1a1.7 1.7 0 00-1.9-.3 1.7 1.7 0 00-1 1.5V21a2 2 0 11-4 0v-.1a1.7 1.7 0 00-1.1-1.5 1.7 1.7 0 00-1.9.3l-.1.1a2 2 0 11-2.8-2.8l.1-.1a1.7 1.7 0 00.3-1.9 1.7 1.7 0 00-1.5-1H3a2 2 0 110-4h.1a1.7 1.7 0 001.5-1.1 1.7 1.7 0 00-.3-1.9l-.1-.1a2 2 0 112.8-2.8l.1.1a1.7 1.7 0 001.9.3H9a1.7 1.7 0 001-1.5V3a2 2 0 114 0v.1a1.7 1.7 0 001 1.5 1.7 1.7 0 001.9-.3l.1-.1a2 2 0 112.8 2.8l-.1.1a1.7 1.7 0 00-.3 1.9V9a1.7 1.7 0 001.5 1H21a2 2 0 110 4h-.1a1.7 1.7 0 00-1.5 1z",
  users: "M16 19v-1a4 4 0 00-4-4H7a4 4 0 00-4 4v1M9.5 10a3.5 3.5 0 100-7 3.5 3.5 0 000 7zM21 19v-1a4 4 0 00-3-3.9M15.5 3.1a3.5 3.5 0 010 6.8",
  user: "M19 20v-1a5 5 0 00-5-5h-4a5 5 0 00-5 5v1M12 11a4 4 0 100-8 4 4 0 000 8z",
  building: "M4 21V4h10v17M14 9h6v12M8 8h2M8 12h2M8 16h2M17 13h1M17 17h1M2 21h20",
  clock: "M12 21a9 9 0 100-18 9 9 0 000 18zM12 7v5l3 2",
  pause: "M9 5v14M15 5v14",
  pauseCircle: "M12 21a9 9 0 100-18 9 9 0 000 18zM10 9v6M14 9v6",
  alert: "M12 3l9.5 17h-19zM12 10v4M12 17.5v.01",
  check: "M5 12.5l4.5 4.5L19 7.5",
  checkCircle: "M12 21a9 9 0 100-18 9 9 0 000 18zM8 12.5l2.8 2.8L16.5 9.5",
  x: "M6 6l12 12M18 6L6 18",
  xCircle: "M12 21a9 9 0 100-18 9 9 0 000 18zM9 9l6 6M15 9l-6 6",
  lock: "M6 11h12v10H6zM8.5 11V8a3.5 3.5 0 017 0v3",
  unlock: "M6 11h12v10H6zM8.5 11V8a3.5 3.5 0 016.7-1.4",
  play: "M8 5.5v13l10-6.5z",
  spark: "M12 3v4M12 17v4M3 12h4M17 12h4M12 9.5a2.5 2.5 0 110 5 2.5 2.5 0 010-5z",
  archive: "M3 5h18v4H3zM5 9v11h14V9M10 13h4",
  paperclip: "M20.5 11.5l-8.3 8.3a5 5 0 01-7.1-7.1l8.3-8.3a3.3 3.3 0 014.7 4.7l-8.3 8.3a1.7 1.7 0 01-2.4-2.4l7.6-7.6",
  upload: "M12 16V4M7 9l5-5 5 5M4 16v4h16v-4",
  download: "M12 4v12M7 11l5 5 5-5M4 20h16",
  search: "M11 18a7 7 0 100-14 7 7 0 000 14zM20.5 20.5L16 16",
  plus: "M12 5v14M5 12h14",
  arrowRight: "M5 12h14M13 6l6 6-6 6",
  arrowLeft: "M19 12H5M11 6l-6 6 6 6",
  chevronDown: "M6 9l6 6 6-6",
  logout: "M15 4h4v16h-4M10 16l-4-4 4-4M6 12h10",
  menu: "M4 7h16M4 12h16M4 17h16",
  message: "M4 5h16v11H9l-5 4z",
  history: "M3 12a9 9 0 109-9 9 9 0 00-6.4 2.6L3 8M3 3v5h5M12 7v5l3 2",
  server: "M4 4h16v6H4zM4 14h16v6H4zM8 7h.01M8 17h.01",
  shield: "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z",
  gate: "M4 21V8l8-5 8 5v13M9 21v-7h6v7",
  list: "M9 6h11M9 12h11M9 18h11M4.5 6h.01M4.5 12h.01M4.5 18h.01",
  refresh: "M20 11a8 8 0 10-2.3 5.7M20 4v7h-7",
  file: "M14 3H6v18h12V7zM14 3v4h4",
  mail: "M3 5h18v14H3zM3.5 6l8.5 7 8.5-7",
  phone: "M5 3h4l2 5-2.5 1.5a11 11 0 006 6L16 13l5 2v4a2 2 0 01-2 2A17 17 0 013 5a2 2 0 012-2z",
  code: "M8 7l-5 5 5 5M16 7l5 5-5 5",
  monitor: "M3 4h18v12H3zM8 20h8M12 16v4",
  bell: "M6 16V11a6 6 0 0112 0v5l1.5 2h-15zM10 20.5a2 2 0 004 0",
  sun: "M12 16a4 4 0 100-8 4 4 0 000 8zM12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4",
} as const;

export type IconName = keyof typeof PATHS;

export interface IconProps {
  name: IconName;
  /** When set, the glyph is announced (role="img"); otherwise it is hidden from assistive tech. */
  label?: string;
  size?: "sm" | "md" | "lg";
  className?: string;
}

export function Icon({ name, label, size = "md", className }: IconProps) {
  const filled = name === "play";
  return (
    <svg
      className={["atum-icon", `atum-icon--${size}`, className].filter(Boolean).join(" ")}
      viewBox="0 0 24 24"
      fill={filled ? "currentColor" : "none"}
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      focusable="false"
      {...(label ? { role: "img", "aria-label": label } : { "aria-hidden": true })}
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
