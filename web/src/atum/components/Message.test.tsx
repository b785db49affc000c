import "@testing-library/jest-dom/vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Message } from "./Message";

describe("a mail in the conversation", () => {
  it("folds the quoted history behind a toggle that says whether it is open", async () => {
    render(
      <Message author="Cody Customer" side="customer" at="2026-01-01T11:00:00Z" quoted={"On Monday, Support wrote:\n> Did that help?"}>
        Yes, it works now.
      </Message>,
    );
    const toggle = screen.getByRole("button", { name: "Show quoted text" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    const quote = document.getElementById(toggle.getAttribute("aria-controls")!)!;
    expect(quote).not.toBeVisible();
    expect(screen.getByText("Yes, it works now.")).toBeVisible();

    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    expect(toggle).toHaveAccessibleName("Hide quoted text");
    expect(quote).toBeVisible();
    expect(quote).toHaveTextContent("Did that help?");

    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(quote).not.toBeVisible();
  });

  it("has no toggle without quoted text", () => {
    render(
      <Message author="Cody Customer" side="customer" at="2026-01-01T11:00:00Z" quoted={null}>
        Hello
      </Message>,
    );
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("lists the files that were not attached, with the reason", () => {
    render(
      <Message
        author="Cody Customer"
        side="customer"
        at="2026-01-01T11:00:00Z"
        refused={[
          { file_name: "setup.exe", reason: "This file type is not accepted." },
          { file_name: "huge.zip", reason: "The file is larger than 25 MB." },
        ]}
      >
        See attached.
      </Message>,
    );
    const list = screen.getByRole("list", { name: "Files not attached" });
    expect(list.querySelectorAll("li")).toHaveLength(2);
    expect(screen.getByText("Not attached: setup.exe — This file type is not accepted.")).toBeInTheDocument();
    expect(screen.getByText("Not attached: huge.zip — The file is larger than 25 MB.")).toBeInTheDocument();
  });
});
