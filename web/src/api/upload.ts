/**
 * File uploads with progress. `fetch` has no upload progress events, so uploads use
 * XMLHttpRequest (same cookie, same CSRF header, same error shape and 401 handler as `request`).
 */
import { ApiError, formatDetail, notifyUnauthorized, requestHeaders } from "./client";
import type { Schemas } from "./types";

export type UploadedAttachment = Schemas["CustomerAttachment"] | Schemas["StaffAttachment"];

export interface UploadOptions {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Factory for tests. */
  xhr?: () => XMLHttpRequest;
}

export function uploadFile<T = UploadedAttachment>(url: string, file: File, options: UploadOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = options.xhr ? options.xhr() : new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.withCredentials = false; // same origin: the session cookie is sent anyway
    for (const [name, value] of Object.entries(requestHeaders("POST", false))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) options.onProgress?.(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let data: unknown = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        options.onProgress?.(1);
        resolve(data as T);
        return;
      }
      const detail = data && typeof data === "object" ? (data as { detail?: unknown }).detail : null;
      const code = data && typeof data === "object" ? (data as { code?: unknown }).code : null;
      if (xhr.status === 401) notifyUnauthorized();
      reject(new ApiError(xhr.status, detail ?? formatDetail(xhr.status, null), typeof code === "string" ? code : null));
    });
    xhr.addEventListener("error", () => reject(new TypeError("Network error during upload")));
    xhr.addEventListener("abort", () => reject(new DOMException("Upload cancelled", "AbortError")));
    options.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}
