/**
 * A strength meter for a new password: zxcvbn's score (0-4) as four bars, a word, and the
 * estimator's advice. The estimator loads on first use (see strength.ts). Announced politely,
 * once the typing pauses.
 */
import { useEffect, useState } from "react";
import { lengthProblem, loadEstimator, MIN_LENGTH, MIN_SCORE, SCORE_LABEL, type Strength } from "./strength";

const TONE = ["danger", "danger", "warning", "success", "success"] as const;

export function PasswordStrength({ password, userInputs = [], id }: { password: string; userInputs?: string[]; id?: string }) {
  const [strength, setStrength] = useState<{ for: string; value: Strength } | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const inputsKey = userInputs.join("\n");

  useEffect(() => {
    if (!password) return;
    let cancelled = false;
    const timer = window.setTimeout(() => {
      loadEstimator()
        .then((estimate) => {
          if (!cancelled) setStrength({ for: password, value: estimate(password, inputsKey ? inputsKey.split("\n") : []) });
        })
        .catch(() => {
          if (!cancelled) setUnavailable(true);
        });
    }, 150);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [password, inputsKey]);

  const current = password && strength ? strength.value : null;
  const score = current?.score ?? 0;
  const short = password ? lengthProblem(password) : null;
  const label = !password
    ? "Not entered yet"
    : current
      ? SCORE_LABEL[score]
      : unavailable
        ? "Not available"
        : "Checking…";
  const tone = current ? TONE[score] : "none";

  let advice: string;
  if (!password) advice = `Use at least ${MIN_LENGTH} characters. A few unrelated words make a strong password.`;
  else if (short) advice = short;
  else if (!current) advice = unavailable ? "The strength could not be checked here; the server checks it when you save." : "";
  else if (score < MIN_SCORE) advice = [current.warning, ...current.suggestions].filter(Boolean).join(" ") || "Add another word or two.";
  else advice = "Strong enough.";

  return (
    <div className={`acct-strength acct-strength--${tone}`} id={id}>
      <div
        className="acct-strength__bars"
        role="meter"
        aria-label="Password strength"
        aria-valuemin={0}
        aria-valuemax={4}
        aria-valuenow={score}
        aria-valuetext={label}
      >
        {[1, 2, 3, 4].map((bar) => (
          <span key={bar} className={current && bar <= Math.max(score, 1) ? "acct-strength__bar acct-strength__bar--on" : "acct-strength__bar"} />
        ))}
      </div>
      <p className="acct-strength__text" aria-live="polite">
        <span className="acct-strength__label">Strength: {label}.</span> {advice}
      </p>
    </div>
  );
}
