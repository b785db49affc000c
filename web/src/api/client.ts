/**
 * The one typed fetch wrapper every endpoint module goes through.
 *
 * - Paths, parameters, bodies and answers are typed from the generated OpenAPI schema
 *   (`schema.d.ts`), so the front end cannot drift from the API without failing `tsc`.
 * - Authentication is the httpOnly session cookie (credentials "same-origin"); the access token
 *   is never read or stored. Unsafe methods echo the readable CSRF cookie in `X-CSRF-Token`.
 * - A 401 goes to ONE global handler (installed by the app: back to /login with the return
 *   path), unless the caller asked to see it (who-am-I, sign in).
 * - A 403 "mfa_enrolment_required" (the role requires a second factor, the grace period is over
 *   and none is enrolled) goes to another: the app sends the user to the two-factor set-up.
 */
import type { paths } from "./schema";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Cookie names: plain HTTP uses the bare names, HTTPS the `__Host-` prefixed ones. */
export const CSRF_COOKIES = ["__Host-atum_csrf", "atum_csrf"] as const;

export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      return decodeURIComponent(part.slice(eq + 1).trim());
    }
  }
  return null;
}

export function csrfToken(): string | null {
  for (const name of CSRF_COOKIES) {
    const value = readCookie(name);
    if (value) return value;
  }
  return null;
}

/** True when a session cookie pair probably exists (the CSRF cookie is its readable half). */
export function hasSessionHint(): boolean {
  return csrfToken() !== null;
}

export function isUnsafe(method: string): boolean {
  return UNSAFE.has(method.toUpperCase());
}

/** Headers for a request: CSRF on unsafe methods only. */
export function requestHeaders(method: string, json: boolean): Record<string, string> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (json) headers["Content-Type"] = "application/json";
  if (isUnsafe(method)) {
    const token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
  }
  return headers;
}

// ---- Errors -------------------------------------------------------------------------------

export interface ValidationItem {
  loc?: (string | number)[];
  msg: string;
}

/** An answer that was not 2xx, with FastAPI's `{detail}` made readable. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly detail: unknown;
  readonly retryAfter: number | null;

  constructor(status: number, detail: unknown, code: string | null = null, retryAfter: number | null = null) {
    super(formatDetail(status, detail));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** Validation messages keyed by field name (the last `loc` element), for inline form errors. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    if (Array.isArray(this.detail)) {
      for (const item of this.detail as ValidationItem[]) {
        const field = item.loc?.[item.loc.length - 1];
        if (typeof field === "string" && !(field in out)) out[field] = cleanMsg(item.msg);
      }
    }
    return out;
  }
}

function cleanMsg(msg: string): string {
  // pydantic prefixes custom messages with "Value error, "
  return msg.replace(/^Value error, /, "");
}

const FIELD_NAMES: Record<string, string> = {
  body: "Message",
  title: "Title",
  description: "Description",
  email: "E-mail",
  password: "Password",
  name: "Name",
  priority: "Priority",
  category: "Category",
  resolution: "Resolution",
  root_cause: "Root cause",
  reason: "Reason",
  first_response_minutes: "First response",
  resolution_minutes: "Resolution",
};

function fieldLabel(loc: (string | number)[] | undefined): string | null {
  if (!loc) return null;
  const meaningful = loc.filter((p) => p !== "body" && p !== "query" && p !== "path");
  const last = meaningful[meaningful.length - 1];
  if (last === undefined) return null;
  const key = String(last);
  return FIELD_NAMES[key] ?? key.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

const STATUS_TEXT: Record<number, string> = {
  400: "The request was not accepted.",
  401: "Your session has ended. Please sign in again.",
  403: "You are not allowed to do this.",
  404: "Not found.",
  409: "This changed in the meantime; reload and try again.",
  413: "The file or request is too large.",
  415: "This file type is not accepted.",
  422: "Some fields are not valid.",
  429: "Too many attempts; please wait a moment and try again.",
  500: "Something went wrong on the server.",
  502: "The server is not reachable right now.",
  503: "The service is temporarily unavailable.",
};

/** FastAPI's `{detail: string | [{loc, msg}]}` as one readable sentence. */
export function formatDetail(status: number, detail: unknown): string {
  if (typeof detail === "string" && detail.trim()) return detail;
  if (Array.isArray(detail) && detail.length > 0) {
    return (detail as ValidationItem[])
      .map((item) => {
        const label = fieldLabel(item.loc);
        const msg = cleanMsg(item.msg ?? "is invalid");
        return label ? `${label}: ${msg}` : msg;
      })
      .join(" · ");
  }
  return STATUS_TEXT[status] ?? `Request failed (${status}).`;
}

/** A readable message for anything thrown by a request. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "The server could not be reached. Check your connection.";
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}

export function isStatus(error: unknown, ...statuses: number[]): error is ApiError {
  return error instanceof ApiError && statuses.includes(error.status);
}

// ---- 401 ----------------------------------------------------------------------------------

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler = () => undefined;

/** Installed once by the app. Tests install their own. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): void {
  onUnauthorized = handler;
}

export function notifyUnauthorized(): void {
  onUnauthorized();
}

// ---- 403 mfa_enrolment_required -------------------------------------------------------------

export const ENROLMENT_REQUIRED = "mfa_enrolment_required";

let onEnrolmentRequired: () => void = () => undefined;

/** Installed once by the app: this session may only set up a second factor. */
export function setEnrolmentRequiredHandler(handler: () => void): void {
  onEnrolmentRequired = handler;
}

export async function toApiError(response: Response): Promise<ApiError> {
  let detail: unknown = null;
  let code: string | null = null;
  try {
    const data: unknown = await response.json();
    if (data && typeof data === "object") {
      detail = (data as { detail?: unknown }).detail ?? null;
      const c = (data as { code?: unknown }).code;
      code = typeof c === "string" ? c : null;
    }
  } catch {
    // not JSON (a proxy's HTML error page): keep the status text
  }
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(response.status, detail, code, Number.isFinite(retry) && retry > 0 ? retry : null);
}

// ---- Typed request --------------------------------------------------------------------------

type Op<P extends keyof paths, M extends HttpMethod> = NonNullable<paths[P][M]>;

/** Paths that have method M. */
export type PathsWith<M extends HttpMethod> = {
  [P in keyof paths]: paths[P][M] extends undefined | never ? never : P;
}[keyof paths];

type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? (Q extends undefined | never ? never : Q) : never;
type PathParamsOf<O> = O extends { parameters: { path: infer P } } ? (P extends undefined | never ? never : P) : never;
type BodyOf<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? B
    : never;
type JsonOf<R> = R extends { content: { "application/json": infer J } } ? J : void;
export type ResponseOf<O> = O extends { responses: infer R }
  ? 200 extends keyof R
    ? JsonOf<R[200]>
    : 201 extends keyof R
      ? JsonOf<R[201]>
      : void
  : void;

type Cleaned<T> = [T] extends [never] ? never : T;

export type RequestOptions<O> = ([Cleaned<PathParamsOf<O>>] extends [never]
  ? { path?: undefined }
  : { path: PathParamsOf<O> }) & {
  query?: Cleaned<QueryOf<O>> extends never ? undefined : Partial<NonNullable<QueryOf<O>>>;
  body?: BodyOf<O>;
  signal?: AbortSignal;
  /** Let a 401 reach the caller instead of the global handler (who-am-I, sign in). */
  handle401?: boolean;
};

export function buildUrl(template: string, path?: Record<string, unknown>, query?: Record<string, unknown>): string {
  let url = template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = path?.[key];
    if (value === undefined || value === null) throw new Error(`Missing path parameter ${key}`);
    return encodeURIComponent(String(value));
  });
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === "") continue;
      if (Array.isArray(value)) {
        for (const v of value) params.append(key, String(v));
      } else {
        params.append(key, String(value));
      }
    }
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  return url;
}

/**
 * `request("get", "/api/tickets/{ticket_id}", { path: { ticket_id } })` → the typed answer.
 */
export async function request<M extends HttpMethod, P extends PathsWith<M>>(
  method: M,
  path: P,
  options: RequestOptions<Op<P, M>> = {} as RequestOptions<Op<P, M>>,
): Promise<ResponseOf<Op<P, M>>> {
  const upper = method.toUpperCase();
  const url = buildUrl(
    path as string,
    options.path as Record<string, unknown> | undefined,
    options.query as Record<string, unknown> | undefined,
  );
  const hasBody = options.body !== undefined;
  const response = await fetch(url, {
    method: upper,
    credentials: "same-origin",
    headers: requestHeaders(upper, hasBody),
    body: hasBody ? JSON.stringify(options.body) : undefined,
    signal: options.signal,
  });
  if (!response.ok) {
    const error = await toApiError(response);
    if (response.status === 401 && !options.handle401) notifyUnauthorized();
    if (response.status === 403 && error.code === ENROLMENT_REQUIRED) onEnrolmentRequired();
    throw error;
  }
  if (response.status === 204) return undefined as ResponseOf<Op<P, M>>;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as ResponseOf<Op<P, M>>;
}
