/** The mark and the wordmark, from public/brand (swap those files to rebrand). */
export function Logo({ className, decorative = false }: { className?: string; decorative?: boolean }) {
  return (
    <img
      src="/brand/logo.svg"
      alt={decorative ? "" : "ATUM"}
      className={["atum-logo", className].filter(Boolean).join(" ")}
      width={32}
      height={32}
    />
  );
}

export function Wordmark({ className, large }: { className?: string; large?: boolean }) {
  return (
    <img
      src="/brand/wordmark.svg"
      alt="ATUM DESK"
      className={["atum-wordmark", large && "atum-wordmark--lg", className].filter(Boolean).join(" ")}
      width={164}
      height={18}
    />
  );
}

/** Logo + wordmark, one accessible name. */
export function BrandLockup({ sub }: { sub?: string }) {
  return (
    <span className="atum-lockup">
      <Logo decorative />
      <Wordmark />
      {sub ? <span className="atum-lockup__sub">{sub}</span> : null}
    </span>
  );
}
