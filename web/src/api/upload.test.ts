import { setUnauthorizedHandler } from "./client";
import { uploadFile } from "./upload";

class FakeXhr {
  static last: FakeXhr;
  headers: Record<string, string> = {};
  method = "";
  url = "";
  status = 0;
  responseText = "";
  withCredentials = false;
  sent: FormData | null = null;
  private listeners: Record<string, ((e: unknown) => void)[]> = {};
  upload = {
    listeners: [] as ((e: ProgressEvent) => void)[],
    addEventListener: (_: string, fn: (e: ProgressEvent) => void) => this.upload.listeners.push(fn),
  };
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  addEventListener(type: string, fn: (e: unknown) => void) {
    (this.listeners[type] ??= []).push(fn);
  }
  send(body: FormData) {
    this.sent = body;
  }
  abort() {
    this.listeners.abort?.forEach((fn) => fn({}));
  }
  progress(loaded: number, total: number) {
    this.upload.listeners.forEach((fn) => fn({ lengthComputable: true, loaded, total } as ProgressEvent));
  }
  finish(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.listeners.load?.forEach((fn) => fn({}));
  }
}

describe("uploads use XMLHttpRequest for progress", () => {
  beforeEach(() => {
    document.cookie = "atum_csrf=tok789; path=/";
  });

  it("reports upload progress, sends the CSRF header and the file field", async () => {
    const progress: number[] = [];
    const file = new File(["hello"], "log.txt", { type: "text/plain" });
    const done = uploadFile("/api/tickets/t1/attachments", file, {
      onProgress: (f) => progress.push(f),
      xhr: () => new FakeXhr() as unknown as XMLHttpRequest,
    });
    const xhr = FakeXhr.last;
    expect(xhr.method).toBe("POST");
    expect(xhr.headers["X-CSRF-Token"]).toBe("tok789");
    expect((xhr.sent!.get("file") as File).name).toBe("log.txt");
    xhr.progress(50, 100);
    xhr.progress(100, 100);
    xhr.finish(201, { id: "a1", file_name: "log.txt" });
    await expect(done).resolves.toMatchObject({ id: "a1" });
    expect(progress).toEqual([0.5, 1, 1]);
  });

  it("turns error answers into ApiErrors and sends 401 to the global handler", async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    const make = () => new FakeXhr() as unknown as XMLHttpRequest;
    const tooBig = uploadFile("/u", new File(["x"], "a.bin"), { xhr: make });
    FakeXhr.last.finish(415, { detail: "This file type is not accepted" });
    await expect(tooBig).rejects.toMatchObject({ status: 415, message: "This file type is not accepted" });

    const expired = uploadFile("/u", new File(["x"], "a.bin"), { xhr: make });
    FakeXhr.last.finish(401, { detail: "Not authenticated" });
    await expect(expired).rejects.toMatchObject({ status: 401 });
    expect(handler).toHaveBeenCalledTimes(1);
    setUnauthorizedHandler(() => undefined);
  });
});
