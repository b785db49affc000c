import { fetchMe } from "./auth";
import { ApiError, formatDetail, readCookie, request, setEnrolmentRequiredHandler, setUnauthorizedHandler } from "./client";
import { stubFetch } from "../test/fixtures";

function setCookie(name: string, value: string) {
  document.cookie = `${name}=${value}; path=/`;
}
function clearCookies() {
  for (const part of document.cookie.split(";")) {
    const name = part.split("=")[0]?.trim();
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
}

function headersOf(init: RequestInit): Record<string, string> {
  return (init.headers ?? {}) as Record<string, string>;
}

describe("CSRF header", () => {
  beforeEach(() => {
    clearCookies();
    setCookie("atum_csrf", "tok123");
  });

  it("is sent on unsafe requests only", async () => {
    const { calls } = stubFetch({ "/api": { ok: true } });
    await request("get", "/api/tickets");
    await request("post", "/api/tickets", { body: { title: "Printer", description: "x", priority: "P3" } });
    await request("patch", "/api/users/{user_id}", { path: { user_id: "u1" }, body: { name: "N" } });
    await request("delete", "/api/sla/{policy_id}", { path: { policy_id: "p1" } });
    const [get, post, patch, del] = calls;
    expect(headersOf(get!.init)["X-CSRF-Token"]).toBeUndefined();
    expect(get!.init.method).toBe("GET");
    for (const call of [post!, patch!, del!]) expect(headersOf(call.init)["X-CSRF-Token"]).toBe("tok123");
    expect(post!.init.credentials).toBe("same-origin");
    expect(headersOf(post!.init)["Content-Type"]).toBe("application/json");
    // the bearer token is never sent or stored
    for (const call of calls) expect(headersOf(call.init).Authorization).toBeUndefined();
  });

  it("reads the __Host- prefixed cookie over HTTPS", async () => {
    clearCookies();
    const spy = vi.spyOn(document, "cookie", "get").mockReturnValue("other=1; __Host-atum_csrf=secure456");
    const { calls } = stubFetch();
    await request("post", "/api/auth/logout");
    expect(headersOf(calls[0]!.init)["X-CSRF-Token"]).toBe("secure456");
    spy.mockRestore();
  });

  it("encodes path parameters and repeats array query parameters", async () => {
    const { calls } = stubFetch();
    await request("get", "/api/internal/tickets", { query: { status: ["NEW", "ACCEPTED"], q: "vpn drop", breached: true } });
    expect(calls[0]!.url).toBe("/api/internal/tickets?status=NEW&status=ACCEPTED&q=vpn+drop&breached=true");
  });

  it("readCookie decodes values", () => {
    expect(readCookie("a", "x=1; a=b%20c")).toBe("b c");
    expect(readCookie("missing", "x=1")).toBeNull();
  });
});

describe("401 handling", () => {
  afterEach(() => setUnauthorizedHandler(() => undefined));

  function answer401() {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ detail: "Not authenticated" }), { status: 401 })),
    );
  }

  it("calls the one global handler and throws an ApiError", async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    answer401();
    await expect(request("get", "/api/tickets")).rejects.toMatchObject({ status: 401 });
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("who-am-I treats 401 as signed out, without the global redirect", async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    setCookie("atum_csrf", "tok");
    answer401();
    await expect(fetchMe()).resolves.toBeNull();
    expect(handler).not.toHaveBeenCalled();
  });

  it("who-am-I does not call the API without a session cookie", async () => {
    clearCookies();
    const { fn } = stubFetch();
    await expect(fetchMe()).resolves.toBeNull();
    expect(fn).not.toHaveBeenCalled();
  });
});

describe("403 mfa_enrolment_required", () => {
  afterEach(() => setEnrolmentRequiredHandler(() => undefined));

  function answer403(code: string) {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ detail: "no", code }), { status: 403 })));
  }

  it("goes to the one handler that sends the user to the two-factor set-up", async () => {
    const handler = vi.fn();
    setEnrolmentRequiredHandler(handler);
    answer403("mfa_enrolment_required");
    await expect(request("get", "/api/tickets")).rejects.toMatchObject({ status: 403, code: "mfa_enrolment_required" });
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("leaves any other 403 to the caller", async () => {
    const handler = vi.fn();
    setEnrolmentRequiredHandler(handler);
    answer403("forbidden");
    await expect(request("get", "/api/tickets")).rejects.toMatchObject({ status: 403 });
    expect(handler).not.toHaveBeenCalled();
  });
});

describe("API errors are readable", () => {
  it("uses a string detail as is", () => {
    expect(formatDetail(409, "Cannot move a NEW ticket to RESOLVED; allowed: ACCEPTED, CANCELLED")).toMatch(/Cannot move/);
  });

  it("turns validation lists into field messages", () => {
    const error = new ApiError(422, [
      { loc: ["body", "title"], msg: "String should have at least 3 characters" },
      { loc: ["body", "password"], msg: "Value error, too short" },
    ]);
    expect(error.message).toBe("Title: String should have at least 3 characters · Password: too short");
    expect(error.fieldErrors()).toEqual({ title: "String should have at least 3 characters", password: "too short" });
  });

  it("falls back to a sentence per status", () => {
    expect(formatDetail(403, null)).toBe("You are not allowed to do this.");
    expect(formatDetail(418, null)).toBe("Request failed (418).");
  });

  it("parses the FastAPI body of a failed request", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ detail: "Ticket is not NEW", code: "conflict" }), { status: 409 })),
    );
    await expect(request("post", "/api/internal/tickets/{ticket_id}/accept", { path: { ticket_id: "t" }, body: {} })).rejects.toMatchObject({
      status: 409,
      code: "conflict",
      message: "Ticket is not NEW",
    });
  });
});
