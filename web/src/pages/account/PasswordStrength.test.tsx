import "@testing-library/jest-dom/vitest";
import { render, screen } from "@testing-library/react";
import { checkNewPassword } from "./NewPasswordFields";
import { PasswordStrength } from "./PasswordStrength";
import { loadEstimator, personalInputs } from "./strength";

function meter() {
  return screen.getByRole("meter", { name: "Password strength" });
}

describe("the password strength meter", () => {
  // The estimator's dictionaries take a moment to load the first time.
  beforeAll(async () => {
    await loadEstimator();
  }, 30_000);

  it("says what a new password needs before anything is typed", () => {
    render(<PasswordStrength password="" />);
    expect(meter()).toHaveAttribute("aria-valuetext", "Not entered yet");
    expect(screen.getByText(/Use at least 12 characters/)).toBeInTheDocument();
  });

  it("rates a common password weak and says why", async () => {
    render(<PasswordStrength password="password1234" />);
    await screen.findByText(/Strength: (Very weak|Weak)\./);
    expect(Number(meter().getAttribute("aria-valuenow"))).toBeLessThanOrEqual(1);
    expect(screen.getByText(/commonly used password/i)).toBeInTheDocument();
  });

  it("rates unrelated words strong", async () => {
    render(<PasswordStrength password="tangerine orbit cello marsh" />);
    await screen.findByText(/Strength: (Strong|Very strong)\./);
    expect(Number(meter().getAttribute("aria-valuenow"))).toBeGreaterThanOrEqual(3);
    expect(screen.getByText(/Strong enough\./)).toBeInTheDocument();
  });

  it("counts the person's own name and address as easy guesses", async () => {
    const estimate = await loadEstimator();
    const inputs = personalInputs("maya.manager@atum.test", "Maya Manager");
    expect(inputs).toEqual(expect.arrayContaining(["maya.manager", "maya", "manager", "atum"]));
    expect(estimate("mayamanager", inputs).score).toBeLessThanOrEqual(estimate("mayamanager", []).score);
    expect(estimate("mayamanager", inputs).score).toBeLessThan(3);
  });

  it("tells a short password from a long one, and the announcement is polite", async () => {
    const { rerender } = render(<PasswordStrength password="short" />);
    expect(screen.getByText(/Use at least 12 characters\./)).toBeInTheDocument();
    expect(screen.getByText(/Strength:/).closest("p")).toHaveAttribute("aria-live", "polite");
    rerender(<PasswordStrength password="" />);
    expect(meter()).toHaveAttribute("aria-valuetext", "Not entered yet");
  });
});

describe("checking a new password before sending it", () => {
  it("wants 12 characters and the same twice", () => {
    expect(checkNewPassword("short", "short")).toEqual({ password: "Use at least 12 characters." });
    expect(checkNewPassword("long enough password", "long enough passwort")).toEqual({ confirm: "The two passwords are not the same." });
    expect(checkNewPassword("long enough password", "long enough password")).toEqual({});
  });
});
