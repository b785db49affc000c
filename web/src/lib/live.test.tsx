import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient } from "@tanstack/react-query";
import { NO_ACTIONS } from "../test/fixtures";
import { Composer } from "../pages/desk/Composer";
import { PresenceBanner, presenceText } from "../pages/desk/Presence";
import { renderWithApp } from "../test/render";
import { Invalidator, setPresence, THROTTLE_MS, useLiveUpdates, usePresence } from "./live";

/** A stand-in for the browser's EventSource: records instances, lets the test dispatch events. */
class FakeEventSource extends EventTarget {
  static CLOSED = 2;
  static made: FakeEventSource[] = [];
  readyState = 1;
  constructor(
    public url: string,
    public init?: EventSourceInit,
  ) {
    super();
    FakeEventSource.made.push(this);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  emit(type: string, data: unknown) {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
}

function Probe({ audience }: { audience: "desk" | "portal" }) {
  useLiveUpdates(true, audience);
  const viewers = usePresence("t9");
  return <p>{viewers.map((v) => v.name).join(",") || "nobody"}</p>;
}

describe("live updates: the stream", () => {
  beforeEach(() => {
    FakeEventSource.made = [];
    vi.stubGlobal("EventSource", FakeEventSource);
  });
  afterEach(() => vi.unstubAllGlobals());

  it("opens one stream, refreshes the ticket's queries and keeps presence", async () => {
    const { client, unmount } = renderWithApp(<Probe audience="desk" />);
    expect(FakeEventSource.made).toHaveLength(1);
    const source = FakeEventSource.made[0]!;
    expect(source.url).toBe("/api/events");
    const spy = vi.spyOn(client, "invalidateQueries");
    act(() => source.emit("ticket", { id: "t9", kind: "comment" }));
    await vi.waitFor(() =>
      expect(spy.mock.calls.map((c) => JSON.stringify(c[0]?.queryKey))).toContain(
        JSON.stringify(["internal-tickets", "detail", "t9"]),
      ),
    );
    act(() => source.emit("presence", { ticket_id: "t9", viewers: [{ id: "s", name: "Sam", state: "replying" }] }));
    expect(screen.getByText("Sam")).toBeInTheDocument();
    act(() => source.emit("presence", { ticket_id: "t9", viewers: [] }));
    expect(screen.getByText("nobody")).toBeInTheDocument();
    unmount();
    expect(source.readyState).toBe(FakeEventSource.CLOSED);
  });
});

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
