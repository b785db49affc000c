import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Service, Team } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AdminServicesPage } from "./AdminServicesPage";

const NETWORK: Team = { id: "t1", name: "Network", member_ids: [], created_at: "2026-01-01T00:00:00Z" };
const VPN: Service = { id: "s1", org_id: null, name: "VPN", is_active: true, default_team_id: null };

describe("admin: services", () => {
  it("shows and sets a service's default team", async () => {
    const { calls } = stubApi({
      "GET /api/services": { body: { items: [{ ...VPN, id: "s2", name: "Mail", default_team_id: "t1" }, VPN], next_cursor: null } },
      "GET /api/teams": { body: { items: [NETWORK], next_cursor: null } },
      "PATCH /api/services/s1": { body: { ...VPN, default_team_id: "t1" } },
    });
    renderWithApp(<AdminServicesPage />);
    const mail = (await screen.findByText("Mail")).closest("tr")!;
    expect(await within(mail).findByText("Network")).toBeInTheDocument();
    const vpn = screen.getByText("VPN").closest("tr")!;
    expect(within(vpn).getByText("None")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Edit VPN" }));
    const dialog = screen.getByRole("dialog");
    await userEvent.selectOptions(within(dialog).getByLabelText("Default team"), "t1");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save service" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ name: "VPN", is_active: true, default_team_id: "t1" });
  });
});
