/**
 * Password strength with zxcvbn-ts (the estimate the server checks with its Python port: score
 * 3 of 4 or better, at least 12 characters). The estimator and its dictionaries (~1 MB) are
 * loaded on first use with a dynamic import, so they never weigh on the first page load.
 */
export type Score = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  score: Score;
  warning: string | null;
  suggestions: string[];
}

export const MIN_LENGTH = 12;
export const MAX_LENGTH = 256;
export const MIN_SCORE: Score = 3;

export const SCORE_LABEL: Record<Score, string> = {
  0: "Very weak",
  1: "Weak",
  2: "Fair",
  3: "Strong",
  4: "Very strong",
};

type Estimator = (password: string, userInputs: string[]) => Strength;

let loading: Promise<Estimator> | null = null;

export function loadEstimator(): Promise<Estimator> {
  loading ??= Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common"), import("@zxcvbn-ts/language-en")])
    .then(([core, common, en]) => {
      const zxcvbn = new core.ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
      });
      return (password: string, userInputs: string[]): Strength => {
        // Like the server: only the first 100 characters are weighed (the cost grows fast).
        const result = zxcvbn.check(password.slice(0, 100), userInputs);
        return { score: result.score, warning: result.feedback.warning || null, suggestions: result.feedback.suggestions };
      };
    })
    .catch((error: unknown) => {
      loading = null; // a failed chunk load may work next time
      throw error;
    });
  return loading;
}

/** The person's own name and address are easy guesses: weigh them like the server does. */
export function personalInputs(...values: (string | null | undefined)[]): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (!value) continue;
    const lower = value.toLowerCase();
    out.add(lower);
    out.add(lower.split("@")[0]!);
    for (const part of lower.replace(/[@.]/g, " ").split(/\s+/)) if (part) out.add(part);
  }
  return [...out];
}

/** Why a new password will be refused before asking the server (length only; the rest is advice). */
export function lengthProblem(password: string): string | null {
  if (password.length < MIN_LENGTH) return `Use at least ${MIN_LENGTH} characters.`;
  if (password.length > MAX_LENGTH) return `Use at most ${MAX_LENGTH} characters.`;
  return null;
}
