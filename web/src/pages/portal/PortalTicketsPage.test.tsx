import "@testing-library/jest-dom/vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { authKeys } from "../../api/auth";
import type { Me } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { PortalTicketsPage } from "./PortalTicketsPage";

function me(overrides: Partial<Me> = {}): Me {
  return {
    id: "c1",
    email: "user@acme.test",
    name: "Cody Customer",
    role: "customer_user",
    org_id: "o1",
    org_name: "Acme Corp",
    is_active: true,
    language: "en",
    portal_visibility: "organization",
    ...overrides,
  };
}

function render(who: Me) {
  return renderWithApp(<PortalTicketsPage />, {
    route: "/portal",
    prepare: (client) => client.setQueryData(authKeys.me, who),
  });
}

const listCalls = (calls: { method: string; url: string }[]) =>
  calls.filter((c) => c.method === "GET" && c.url.startsWith("/api/tickets?")).map((c) => c.url);

describe("portal ticket list: whose tickets", () => {
  it("offers 'Opened by me' and 'My organization' when the organization's tickets are visible", async () => {
    const { calls } = stubApi({});
    render(me());
    const tabs = await screen.findByRole("tablist", { name: "Whose tickets" });
    expect(tabs).toBeInTheDocument();
    expect(screen.getByRole("tab", { name: "My organization" })).toHaveAttribute("aria-selected", "true");
    await waitFor(() => expect(listCalls(calls).some((u) => u.includes("scope=organization"))).toBe(true));

    await userEvent.click(screen.getByRole("tab", { name: "Opened by me" }));
    expect(screen.getByRole("tab", { name: "Opened by me" })).toHaveAttribute("aria-selected", "true");
    await waitFor(() => expect(listCalls(calls).some((u) => u.includes("scope=mine"))).toBe(true));
    expect(screen.getByText("The tickets you opened or were copied on.")).toBeInTheDocument();
  });

  it("shows a customer user of an 'own tickets' organization only their list", async () => {
    const { calls } = stubApi({});
    render(me({ portal_visibility: "own" }));
    await screen.findByText("The tickets you opened or were copied on.");
    expect(screen.queryByRole("tablist")).toBeNull();
    await waitFor(() => expect(listCalls(calls).length).toBeGreaterThan(0));
    expect(listCalls(calls).every((u) => u.includes("scope=mine"))).toBe(true);
  });

  it("keeps both lists for a customer admin whatever the setting", async () => {
    stubApi({});
    render(me({ role: "customer_admin", portal_visibility: "own" }));
    expect(await screen.findByRole("tab", { name: "My organization" })).toBeInTheDocument();
  });
});
