// Attachments over the files API: uploads with progress, the document's list, deletion, and
// downloads that carry the access token (an <img src> or a plain link cannot send it).
//
// Small files go through the service as one multipart POST; large ones are PUT straight to the
// object store on a presigned URL and confirmed afterwards, so big bytes never pass the gateway.
// Uploads use XMLHttpRequest because fetch() still reports no upload progress.

import { isSubjectSafeId } from "@palimpsest/contracts/shared";
import { withAccessToken } from "../api/api-client";
import { ApiError, sendJson } from "../api/http";
import type { FileView, PresignedUpload } from "../api/types";

export type { FileView, ThumbnailState } from "../api/types";

export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * Files up to this size go through the service. The server's own limit (FILES_MAX_STREAMED_BYTES,
 * 25 MiB by default) may be lower; a refusal for size then falls back to a presigned upload.
 */
export const STREAMED_UPLOAD_MAX = 8 * 1024 * 1024;

/** What the image drop and paste handlers accept; the server checks the bytes again. */
export const IMAGE_TYPES: readonly string[] = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"];

export function isFileId(value: unknown): value is string {
  return typeof value === "string" && isSubjectSafeId(value);
}

/** The API path of a file's bytes: what a text document's image stores as its `src`. */
export function filePath(fileId: string): string {
  return `/api/files/${encodeURIComponent(fileId)}`;
}

/** The file id in an image `src` written by this app (`/api/files/<id>`), or null. */
export function fileIdFromSrc(src: string | null | undefined): string | null {
  const id = /^\/api\/files\/([^/]*)$/.exec(src ?? "")?.[1];
  return id !== undefined && isFileId(id) ? id : null;
}

const docFilesPath = (docId: string): string => `/api/docs/${encodeURIComponent(docId)}/files`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** The API's error body ({error: {code, message}}) as an ApiError; `fallback` when there is none. */
function apiError(status: number, body: string, fallback: string): ApiError {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed) && isRecord(parsed.error) && typeof parsed.error.code === "string") {
      const message = typeof parsed.error.message === "string" && parsed.error.message !== "" ? parsed.error.message : fallback;
      return new ApiError(status, parsed.error.code, message);
    }
  } catch {
    // Not JSON: an object store's XML, a proxy's page.
  }
  return new ApiError(status, `HTTP_${status}`, fallback);
}

const NETWORK_MESSAGE = "Can't reach the server. Check your connection and try again.";

interface XhrRequest {
  method: "POST" | "PUT";
  url: string;
  headers: Record<string, string>;
  body: XMLHttpRequestBodyInit;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/** One XMLHttpRequest, resolved with its status and body whatever the status. */
function xhr({ method, url, headers, body, onProgress, signal }: XhrRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException("The upload was cancelled.", "AbortError"));
      return;
    }
    const request = new XMLHttpRequest();
    request.open(method, url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.({ loaded: event.loaded, total: event.total });
    };
    request.onload = () => resolve({ status: request.status, body: request.responseText });
    request.onerror = () => reject(new ApiError(0, "NETWORK", NETWORK_MESSAGE));
    request.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    signal?.addEventListener("abort", () => request.abort(), { once: true });
    request.send(body);
  });
}

function parseJson<T>(status: number, body: string, what: string): T {
  if (status < 200 || status >= 300) throw apiError(status, body, `${what} failed (${status}).`);
  return JSON.parse(body) as T;
}

async function uploadThroughService(docId: string, file: File, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal): Promise<FileView> {
  return withAccessToken(async (token) => {
    const form = new FormData();
    form.append("name", file.name);
    form.append("file", file, file.name);
    const res = await xhr({ method: "POST", url: docFilesPath(docId), headers: { Authorization: `Bearer ${token}`, Accept: "application/json" }, body: form, onProgress, signal });
    return parseJson<FileView>(res.status, res.body, "The upload");
  });
}

async function uploadPresigned(docId: string, file: File, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal): Promise<FileView> {
  const contentType = file.type || "application/octet-stream";
  const grant = await withAccessToken((token) =>
    sendJson<PresignedUpload>({ method: "POST", path: docFilesPath(docId), body: { name: file.name, size: file.size, contentType }, accessToken: token, signal }),
  );
  // The store's URL is signed for exactly these headers; no token goes to the store.
  const put = await xhr({ method: grant.method, url: grant.uploadUrl, headers: grant.headers, body: file, onProgress, signal });
  if (put.status < 200 || put.status >= 300) {
    throw new ApiError(put.status, "UPLOAD_FAILED", put.status === 403 ? "The upload link expired before the file arrived. Try again." : `The file store refused the upload (${put.status}).`);
  }
  return withAccessToken((token) => sendJson<FileView>({ method: "POST", path: grant.completeUrl, accessToken: token, signal }));
}

/** Tells this window's attachment lists that a document's files changed. */
const FILES_CHANGED = "palimpsest:files-changed";

export function announceFilesChanged(docId: string): void {
  window.dispatchEvent(new CustomEvent<string>(FILES_CHANGED, { detail: docId }));
}

export function onFilesChanged(docId: string, listener: () => void): () => void {
  const handler = (event: Event): void => {
    if (event instanceof CustomEvent && event.detail === docId) listener();
  };
  window.addEventListener(FILES_CHANGED, handler);
  return () => window.removeEventListener(FILES_CHANGED, handler);
}

/** Attaches `file` to the document; resolves with the stored file once the server accepted it. */
export async function uploadFile(docId: string, file: File, opts: { onProgress?: (p: UploadProgress) => void; signal?: AbortSignal } = {}): Promise<FileView> {
  let view: FileView | undefined;
  if (file.size <= STREAMED_UPLOAD_MAX) {
    try {
      view = await uploadThroughService(docId, file, opts.onProgress, opts.signal);
    } catch (err) {
      // Over this server's streamed limit but maybe within its overall one: go to the store directly.
      if (!(err instanceof ApiError && err.code === "PAYLOAD_TOO_LARGE")) throw err;
    }
  }
  view ??= await uploadPresigned(docId, file, opts.onProgress, opts.signal);
  announceFilesChanged(docId);
  return view;
}

export function listFiles(docId: string, signal?: AbortSignal): Promise<{ items: FileView[] }> {
  return withAccessToken((token) => sendJson({ method: "GET", path: docFilesPath(docId), accessToken: token, signal }));
}

export async function deleteFile(file: FileView): Promise<void> {
  await withAccessToken((token) => sendJson<void>({ method: "DELETE", path: filePath(file.id), accessToken: token }));
  announceFilesChanged(file.docId);
}

/** The bytes at an API path (a file or its thumbnail), fetched with the access token. */
export function fetchFileBlob(path: string, signal?: AbortSignal): Promise<Blob> {
  return withAccessToken(async (token) => {
    let res: Response;
    try {
      res = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, signal });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(0, "NETWORK", NETWORK_MESSAGE);
    }
    if (!res.ok) throw apiError(res.status, await res.text().catch(() => ""), res.status === 404 ? "This file is no longer available." : `The download failed (${res.status}).`);
    return res.blob();
  });
}

/** Saves a file to the user's disk under its name. */
export async function downloadFile(file: FileView): Promise<void> {
  const blob = await fetchFileBlob(`${file.url}?download=true`);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = file.name;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
  // The click has started the save; the URL is not needed once the browser has read it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
