import type { Me } from "../api/types";
import { landingAfterLogin, loginPathFor, safeNext } from "./session";

const MY_OPEN = "/desk/views/5a7ed000-0000-4000-8000-000000000001";
const user = (role: Me["role"]): Me => ({ id: "u", email: "e", name: "n", role, org_id: null, org_name: null, is_active: true, language: "en" });

describe("where people land after sign in", () => {
  it("customers go to the portal, staff to the desk", () => {
    expect(landingAfterLogin(user("customer_user"), null)).toBe("/portal");
    expect(landingAfterLogin(user("customer_admin"), null)).toBe("/portal");
    // Agents start on their own open work ("My open"), managers and admins on the inbox.
    expect(landingAfterLogin(user("agent"), null)).toBe(MY_OPEN);
    expect(landingAfterLogin(user("manager"), null)).toBe("/desk/inbox");
    expect(landingAfterLogin(user("admin"), null)).toBe("/desk/inbox");
  });

  it("keeps the return path when the user may open it", () => {
    expect(landingAfterLogin(user("agent"), "/desk/tickets/abc")).toBe("/desk/tickets/abc");
    expect(landingAfterLogin(user("customer_user"), "/desk/tickets/abc")).toBe("/portal");
    expect(landingAfterLogin(user("agent"), "/desk/admin/users")).toBe(MY_OPEN);
    expect(landingAfterLogin(user("customer_user"), "/portal/users")).toBe("/portal");
    expect(landingAfterLogin(user("manager"), "/desk/mail/held")).toBe("/desk/mail/held");
    expect(landingAfterLogin(user("agent"), "/desk/mail/held")).toBe(MY_OPEN);
  });

  it("never follows an off-site return path", () => {
    expect(safeNext("//evil.example/x")).toBeNull();
    expect(safeNext("https://evil.example")).toBeNull();
    expect(safeNext("/\\evil.example")).toBeNull();
    expect(safeNext("/portal?status=open")).toBe("/portal?status=open");
  });

  it("the 401 redirect keeps where the user was", () => {
    expect(loginPathFor({ pathname: "/desk/tickets/t1", search: "?tab=audit" })).toBe("/login?next=%2Fdesk%2Ftickets%2Ft1%3Ftab%3Daudit");
    expect(loginPathFor({ pathname: "/", search: "" })).toBe("/login");
  });
});
