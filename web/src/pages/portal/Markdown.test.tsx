import { render, screen } from "@testing-library/react";
import { Markdown, safeHref } from "./Markdown";

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
          "See [the guide](https://intranet.example/printers), [home](/portal) or [mail us](mailto:help@example.test).",
        ].join("\n")}
      />,
    );
    expect(screen.getByRole("heading", { level: 2, name: "Printer" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 3, name: "Steps" })).toBeInTheDocument();
    expect(container.querySelector("h1")).toBeNull();
    expect(container.querySelector("strong")).toHaveTextContent("tray 2");
    expect(container.querySelector("em")).toHaveTextContent("gently");
    expect(container.querySelector("p code")).toHaveTextContent("jammed");
    expect(container.querySelectorAll("ul li")).toHaveLength(2);
    expect(container.querySelectorAll("ol li")).toHaveLength(2);
    expect(container.querySelector("blockquote")).toHaveTextContent("Never use tools.");
    expect(container.querySelector("pre.kb-md__code code")).toHaveTextContent("# not a heading");
    expect(container).not.toHaveTextContent("**");
    const guide = screen.getByRole("link", { name: "the guide" });
    expect(guide).toHaveAttribute("href", "https://intranet.example/printers");
    expect(guide).toHaveAttribute("rel", "noopener noreferrer nofollow");
    expect(screen.getByRole("link", { name: "home" })).toHaveAttribute("href", "/portal");
    expect(screen.getByRole("link", { name: "mail us" })).toHaveAttribute("href", "mailto:help@example.test");
  });

  it("starts headings at the level it is given", () => {
    render(<Markdown source={"# Top\n\n## Below\n\n###### Deepest"} headingLevel={5} />);
    expect(screen.getByRole("heading", { level: 5, name: "Top" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 6, name: "Below" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 6, name: "Deepest" })).toBeInTheDocument();
  });

  it("never turns text into HTML", () => {
    const { container } = render(
      <Markdown
        source={[
          '<img src=x onerror="alert(1)"> <script>alert(2)</script>',
          "",
          "<script>alert(3)</script>",
          "",
          '<div onclick="alert(4)">block</div>',
          "",
          '<iframe src="https://evil.example"></iframe>',
        ].join("\n")}
      />,
    );
    expect(container.querySelector("img, script, iframe, .kb-md div, [onerror], [onclick]")).toBeNull();
    expect(container).toHaveTextContent('<img src=x onerror="alert(1)"> <script>alert(2)</script>');
    expect(container).toHaveTextContent("<script>alert(3)</script>");
    expect(container).toHaveTextContent('<div onclick="alert(4)">block</div>');
  });

  it("never links a script, another site or anything but http(s), mailto and /", () => {
    const { container } = render(
      <Markdown
        source={[
          "[click](javascript:alert(1)) [x](//evil.example) [z](data:text/html,hi) [rel](relative/page)",
          "[ref][r] <javascript:alert(2)> [frag](#top)",
          "",
          "[r]: JAVASCRIPT:alert(3)",
        ].join("\n")}
      />,
    );
    expect(container.querySelector("a")).toBeNull();
    expect(container).toHaveTextContent("click x z rel ref javascript:alert(2) frag");
  });

  it("keeps backslash and control-character tricks inside this site (percent-encoded)", () => {
    render(<Markdown source={"[y](/\\evil.example) [tab](</&#9;/evil.example>) [nl](</&#10;/x>)"} />);
    expect(screen.getByRole("link", { name: "y" })).toHaveAttribute("href", "/%5Cevil.example");
    expect(screen.getByRole("link", { name: "tab" })).toHaveAttribute("href", "/%09/evil.example");
    expect(screen.getByRole("link", { name: "nl" })).toHaveAttribute("href", "/%0A/x");
  });

  it("never loads an image: the alt text stands in its place", () => {
    const { container } = render(
      <Markdown source={"Look: ![the printer tray](https://tracker.example/pixel.png) ![](/x.png) [![logo](/a.png)](/portal)"} />,
    );
    expect(container.querySelector("img")).toBeNull();
    expect(container).toHaveTextContent("Look: the printer tray logo");
    expect(container.innerHTML).not.toContain("tracker.example");
    expect(screen.getByRole("link", { name: "logo" })).toHaveAttribute("href", "/portal");
  });

  it("keeps only safe hrefs", () => {
    expect(safeHref("https://a.example/x")).toBe("https://a.example/x");
    expect(safeHref("HTTP://a.example")).toBe("HTTP://a.example");
    expect(safeHref("mailto:a@b.example")).toBe("mailto:a@b.example");
    expect(safeHref("/desk/kb?article=1")).toBe("/desk/kb?article=1");
    for (const bad of ["javascript:alert(1)", "//evil.example", "/\\evil.example", "/\t/evil", "data:x", "#top", "x/y", ""]) {
      expect(safeHref(bad)).toBeNull();
    }
  });
});
