import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Org } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AdminOrgsPage, invalidDomains, parseDomains } from "./AdminOrgsPage";

const ACME: Org = {
  id: "22222222-2222-4222-8222-222222222222",
  name: "Acme Corp",
  status: "active",
  portal_visibility: "organization",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  email_domains: ["acme.example"],
};

describe("organization e-mail domains", () => {
  it("reads commas, spaces and lines; lower-cases, drops a leading @ and duplicates", () => {
    expect(parseDomains("")).toEqual([]);
    expect(parseDomains(" Acme.example, @acme-mail.example\nacme.example;;  sub.acme.example \n\n")).toEqual([
      "acme.example",
      "acme-mail.example",
      "sub.acme.example",
    ]);
    expect(invalidDomains(["acme.example", "localhost", "bad_domain.example", "-x.example"])).toEqual([
      "localhost",
      "bad_domain.example",
      "-x.example",
    ]);
  });

  it("shows the domains and saves the edited list", async () => {
    const { calls } = stubApi({
      "GET /api/orgs": { body: { items: [ACME], next_cursor: null } },
      [`PATCH /api/orgs/${ACME.id}`]: { body: { ...ACME, email_domains: ["acme.example", "acme.test"] } },
    });
    renderWithApp(<AdminOrgsPage />);
    const row = (await screen.findByText("Acme Corp")).closest("tr")!;
    expect(within(row).getByText("acme.example")).toBeInTheDocument();

    await userEvent.click(within(row).getByRole("button", { name: "Edit Acme Corp" }));
    const dialog = screen.getByRole("dialog", { name: "Edit Acme Corp" });
    const field = within(dialog).getByLabelText("E-mail domains");
    expect(field).toHaveValue("acme.example");
    expect(field).toHaveAccessibleDescription(/Unknown senders from these domains become customer users of this organization/);
    await userEvent.type(field, ", ACME.test");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save organization" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.body).toEqual({
      name: "Acme Corp",
      status: "active",
      email_domains: ["acme.example", "acme.test"],
      portal_visibility: "organization",
    });
  });

  it("refuses what is not a domain before sending", async () => {
    const { calls } = stubApi({ "GET /api/orgs": { body: { items: [], next_cursor: null } } });
    renderWithApp(<AdminOrgsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "New organization" }));
    const dialog = screen.getByRole("dialog", { name: "New organization" });
    await userEvent.type(within(dialog).getByLabelText("Name"), "Globex");
    await userEvent.type(within(dialog).getByLabelText("E-mail domains"), "globex.example, intranet");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create organization" }));
    expect(within(dialog).getByText("Not an e-mail domain (like example.com): intranet")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toEqual([]);
  });

  it("shows the server's conflict on the domains field", async () => {
    stubApi({
      "GET /api/orgs": { body: { items: [], next_cursor: null } },
      "POST /api/orgs": {
        status: 409,
        body: { detail: "Already the e-mail domain of another organization: acme.example", code: "conflict" },
      },
    });
    renderWithApp(<AdminOrgsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "New organization" }));
    const dialog = screen.getByRole("dialog", { name: "New organization" });
    await userEvent.type(within(dialog).getByLabelText("Name"), "Acme Again");
    await userEvent.type(within(dialog).getByLabelText("E-mail domains"), "acme.example");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create organization" }));
    const field = within(dialog).getByLabelText("E-mail domains");
    await waitFor(() => expect(field).toHaveAttribute("aria-invalid", "true"));
    expect(field).toHaveAccessibleDescription(/Already the e-mail domain of another organization: acme\.example/);
    expect(screen.getByRole("dialog")).toBeInTheDocument();
  });

  it("names the domain a 422 is about", async () => {
    stubApi({
      "GET /api/orgs": { body: { items: [], next_cursor: null } },
      "POST /api/orgs": {
        status: 422,
        body: { detail: [{ loc: ["body", "email_domains", 1], msg: "Value error, not a valid e-mail domain (like example.com)" }] },
      },
    });
    renderWithApp(<AdminOrgsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "New organization" }));
    const dialog = screen.getByRole("dialog", { name: "New organization" });
    await userEvent.type(within(dialog).getByLabelText("Name"), "Globex");
    await userEvent.type(within(dialog).getByLabelText("E-mail domains"), "globex.example\nglobex.co.example");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create organization" }));
    expect(await within(dialog).findByText("globex.co.example: not a valid e-mail domain (like example.com)")).toBeInTheDocument();
  });
});

describe("organization portal visibility", () => {
  it("shows what the portal shows and saves a change to own tickets", async () => {
    const { calls } = stubApi({
      "GET /api/orgs": { body: { items: [ACME], next_cursor: null } },
      [`PATCH /api/orgs/${ACME.id}`]: { body: { ...ACME, portal_visibility: "own" } },
    });
    renderWithApp(<AdminOrgsPage />);
    const row = (await screen.findByText("Acme Corp")).closest("tr")!;
    expect(within(row).getByText("Whole organization")).toBeInTheDocument();

    await userEvent.click(within(row).getByRole("button", { name: "Edit Acme Corp" }));
    const dialog = screen.getByRole("dialog", { name: "Edit Acme Corp" });
    const select = within(dialog).getByLabelText("Portal visibility");
    expect(select).toHaveValue("organization");
    expect(select).toHaveAccessibleDescription(/Customer admins always see every ticket/);
    await userEvent.selectOptions(select, "own");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save organization" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.body).toMatchObject({ portal_visibility: "own" });
  });
});
