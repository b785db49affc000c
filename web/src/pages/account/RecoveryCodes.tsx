/** Ten recovery codes, shown once: to copy or download, with what they are for. */
import { useState } from "react";
import { Button, Icon } from "../../atum";

export function recoveryCodesText(codes: string[]): string {
  return [
    "ATUM DESK recovery codes",
    "Each code signs you in once when you cannot use your authenticator app or security key.",
    "",
    ...codes,
    "",
  ].join("\n");
}

export function RecoveryCodes({ codes }: { codes: string[] }) {
  const [copied, setCopied] = useState<string | null>(null);
  const text = recoveryCodesText(codes);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("The codes were copied.");
    } catch {
      setCopied("Copying did not work here: select the codes, or download them.");
    }
  };
  return (
    <div className="acct-codes">
      <p>
        Keep these codes somewhere safe, like a password manager. Each one signs you in once when you cannot use your app or key.{" "}
        <strong>They are shown only now.</strong>
      </p>
      <ol className="acct-codes__list" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code className="acct-code">{code}</code>
          </li>
        ))}
      </ol>
      <div className="atum-inline">
        <Button size="sm" variant="secondary" onClick={() => void copy()}>
          <Icon name="file" size="sm" />
          Copy codes
        </Button>
        <a
          className="atum-btn atum-btn--secondary atum-btn--sm"
          href={`data:text/plain;charset=utf-8,${encodeURIComponent(text)}`}
          download="atum-desk-recovery-codes.txt"
        >
          <Icon name="download" size="sm" />
          Download
        </a>
      </div>
      <p className="acct-codes__status" aria-live="polite">
        {copied}
      </p>
    </div>
  );
}
