import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient } from "@tanstack/react-query";
import { NO_ACTIONS } from "../test/fixtures";
import { Composer } from "../pages/desk/Composer";
import { PresenceBanner, presenceText } from "../pages/desk/Presence";
import { Invalidator, setPresence, THROTTLE_MS } from "./live";

describe("live updates: invalidation", () => {
  afterEach(() => vi.useRealTimers());

  it("invalidates a burst of ticket events in one throttled round", () => {
    vi.useFakeTimers();
    const client = new QueryClient();
    const spy = vi.spyOn(client, "invalidateQueries");
    let now = 0;
    const inv = new Invalidator(client, "desk", () => now);
    inv.ticket("a");
    inv.ticket("b");
    inv.ticket("a");
    expect(spy).not.toHaveBeenCalled();
    now = 60;
    vi.advanceTimersByTime(60);
    const keys = spy.mock.calls.map((c) => JSON.stringify(c[0]?.queryKey));
    expect(keys).toContain(JSON.stringify(["internal-tickets", "detail", "a"]));
    expect(keys).toContain(JSON.stringify(["internal-tickets", "detail", "b"]));
    expect(keys).toContain(JSON.stringify(["internal-tickets", "list"]));
    expect(keys).toContain(JSON.stringify(["views"]));
    expect(keys.filter((k) => k === JSON.stringify(["internal-tickets", "list"]))).toHaveLength(1);

    spy.mockClear();
    inv.ticket("c");
    vi.advanceTimersByTime(THROTTLE_MS / 2);
    expect(spy).not.toHaveBeenCalled();
    now = 60 + THROTTLE_MS;
    vi.advanceTimersByTime(THROTTLE_MS);
    expect(spy.mock.calls.map((c) => JSON.stringify(c[0]?.queryKey))).toContain(
      JSON.stringify(["internal-tickets", "detail", "c"]),
    );
    inv.dispose();
  });

  it("portal streams invalidate the portal's keys only", () => {
    vi.useFakeTimers();
    const client = new QueryClient();
    const spy = vi.spyOn(client, "invalidateQueries");
    const inv = new Invalidator(client, "portal", () => 0);
    inv.ticket("t1");
    vi.advanceTimersByTime(100);
    const keys = spy.mock.calls.map((c) => JSON.stringify(c[0]?.queryKey));
    expect(keys).toEqual([JSON.stringify(["tickets", "detail", "t1"]), JSON.stringify(["tickets", "list"])]);
  });
});

describe("collision warnings", () => {
  it("names the others on the ticket, not the viewer", () => {
    render(<PresenceBanner ticketId="t1" meId="me" />);
    expect(screen.queryByRole("status")).toBeNull();
    act(() =>
      setPresence("t1", [
        { id: "me", name: "Me", state: "viewing" },
        { id: "d", name: "Dana", state: "viewing" },
        { id: "s", name: "Sam", state: "replying" },
      ]),
    );
    expect(screen.getByRole("status")).toHaveTextContent("Dana is viewing · Sam is replying…");
    act(() => setPresence("t1", []));
    expect(screen.queryByRole("status")).toBeNull();
    expect(presenceText([{ id: "x", name: "Ann", state: "viewing" }])).toBe("Ann is viewing");
  });

  it("the composer reports typing and asks before sending", async () => {
    const onSubmit = vi.fn(() => Promise.resolve());
    const onTypingChange = vi.fn();
    let allow = false;
    const confirmSend = vi.fn(() => Promise.resolve(allow));
    render(
      <Composer
        actions={{ ...NO_ACTIONS, reply: true }}
        onSubmit={onSubmit}
        onTypingChange={onTypingChange}
        confirmSend={confirmSend}
      />,
    );
    await userEvent.type(screen.getByLabelText("Public reply"), "Hi");
    expect(onTypingChange).toHaveBeenLastCalledWith(true);
    await userEvent.click(screen.getByRole("button", { name: "Send public reply" }));
    expect(confirmSend).toHaveBeenCalled();
    expect(onSubmit).not.toHaveBeenCalled();
    allow = true;
    await userEvent.click(screen.getByRole("button", { name: "Send public reply" }));
    expect(onSubmit).toHaveBeenCalledWith("Hi", false);
    expect(onTypingChange).toHaveBeenLastCalledWith(false);
  });
});
