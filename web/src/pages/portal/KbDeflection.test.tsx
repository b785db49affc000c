import { act, fireEvent, screen, within } from "@testing-library/react";
import { useState } from "react";
import { stubFetch } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { DEFLECTION_DELAY_MS, KbDeflection, deflectionQuestion } from "./KbDeflection";

const ARTICLE = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const MATCHES = {
  items: [{ id: ARTICLE, title: "Resetting a forgotten password", excerpt: "Open the sign-in page and choose Forgot password." }],
};

/** The new-ticket form's two fields, feeding the panel like NewTicketPage does. */
function Form() {
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  return (
    <>
      <input aria-label="Title" value={title} onChange={(e) => setTitle(e.target.value)} />
      <textarea aria-label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <KbDeflection title={title} description={description} />
    </>
  );
}

const type = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

/** Let `ms` pass (timers and the promises they release). */
async function wait(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

function questions(calls: { url: string }[]): (string | null)[] {
  return calls
    .filter((c) => c.url.startsWith("/api/kb/articles"))
    .map((c) => new URL(c.url, "http://localhost").searchParams.get("q"));
}

describe("knowledge-base deflection panel", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("needs three words across title and description", () => {
    expect(deflectionQuestion("Forgot password", "")).toBe("");
    expect(deflectionQuestion("  Forgot  ", " my password ")).toBe("Forgot\nmy password");
    expect(deflectionQuestion("a".repeat(3000), "b c")).toHaveLength(2000);
  });

  it("asks once, 400 ms after the typing stopped, and shows the articles", async () => {
    const { calls } = stubFetch({ "/api/kb/articles": MATCHES });
    renderWithApp(<Form />);

    type("Title", "Forgot password");
    await wait(2 * DEFLECTION_DELAY_MS);
    expect(questions(calls)).toEqual([]); // two words: nothing asked

    type("Description", "I cannot");
    await wait(DEFLECTION_DELAY_MS - 50);
    type("Description", "I cannot sign in");
    await wait(DEFLECTION_DELAY_MS - 50);
    expect(questions(calls)).toEqual([]); // still typing
    await wait(100);
    expect(questions(calls)).toEqual(["Forgot password\nI cannot sign in"]);
    await wait(50); // the answer arrives

    const panel = screen.getByRole("complementary", { name: "These articles may answer your question" });
    const link = within(panel).getByRole("link", { name: /Resetting a forgotten password/ });
    expect(link).toHaveAttribute("href", `/portal/kb/${ARTICLE}`);
    expect(link).toHaveAttribute("target", "_blank");
    expect(panel).toHaveTextContent("Open the sign-in page and choose Forgot password.");

    // Cleared again: the panel goes, and nothing more is asked.
    type("Title", "");
    type("Description", "");
    await wait(DEFLECTION_DELAY_MS);
    expect(screen.queryByRole("complementary")).toBeNull();
    expect(questions(calls)).toHaveLength(1);
  });

  it("shows nothing when no article matches", async () => {
    const { calls } = stubFetch({ "/api/kb/articles": { items: [] } });
    renderWithApp(<Form />);
    type("Title", "Coffee machine broken again");
    await wait(DEFLECTION_DELAY_MS + 100);
    expect(questions(calls)).toEqual(["Coffee machine broken again"]);
    expect(screen.queryByRole("complementary")).toBeNull();
    expect(screen.queryByText(/may answer your question/)).toBeNull();
  });
});
