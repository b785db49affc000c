import { render, screen } from "@testing-library/react";
import { Markdown, parseBlocks } from "./Markdown";

describe("knowledge-base Markdown", () => {
  it("renders headings below the page title, lists, quotes, code and inline marks", () => {
    const { container } = render(
      <Markdown
        source={[
          "# Printer",
          "Open **tray 2** and *gently* pull the `jammed` sheet.",
          "",
          "## Steps",
          "- Switch it off",
          "- Wait",
          "",
          "1. First",
          "2. Second",
          "",
          "> Never use tools.",
          "",
          "```",
          "# not a heading",
          "```",
          "See [the guide](https://intranet.example/printers) or [home](/portal).",
        ].join("\n")}
      />,
    );
    expect(screen.getByRole("heading", { level: 2, name: "Printer" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 3, name: "Steps" })).toBeInTheDocument();
    expect(container.querySelector("strong")).toHaveTextContent("tray 2");
    expect(container.querySelector("em")).toHaveTextContent("gently");
    expect(container.querySelector("p code")).toHaveTextContent("jammed");
    expect(container.querySelectorAll("ul li")).toHaveLength(2);
    expect(container.querySelectorAll("ol li")).toHaveLength(2);
    expect(container.querySelector("blockquote")).toHaveTextContent("Never use tools.");
    expect(container.querySelector("pre code")).toHaveTextContent("# not a heading");
    expect(screen.getByRole("link", { name: "the guide" })).toHaveAttribute("href", "https://intranet.example/printers");
    expect(screen.getByRole("link", { name: "home" })).toHaveAttribute("href", "/portal");
  });

  it("never turns text into HTML and never links a script", () => {
    const { container } = render(
      <Markdown source={'<img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n[click](javascript:void) [x](//evil.example)'} />,
    );
    expect(container.querySelector("img, script")).toBeNull();
    expect(container).toHaveTextContent('<img src=x onerror="alert(1)"> <script>alert(2)</script>');
    expect(container.querySelector("a")).toBeNull();
    expect(container).toHaveTextContent("click x");
  });

  it("splits blocks the way the text reads", () => {
    expect(parseBlocks("one\ntwo\n\nthree").map((b) => b.kind)).toEqual(["paragraph", "paragraph"]);
    expect(parseBlocks("```\nunclosed").map((b) => b.kind)).toEqual(["code"]);
  });
});
