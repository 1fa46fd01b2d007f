// Downloads of a document as a file, and new documents from files (GET /api/docs/:id/export,
// POST /api/docs/import). Both send bytes, not JSON, so they go through fetch here with the
// same token renewal as every other call.

import { IMPORT_MAX_BYTES, type TransferFormat } from "@palimpsest/contracts/shared";
import { withAccessToken } from "../api/api-client";
import { ApiError, errorFrom } from "../api/http";
import type { DocSummary } from "../api/types";

const docPath = (id: string): string => `/api/docs/${encodeURIComponent(id)}`;

/** The name the server gave the download, or a plain one. */
function fileNameFrom(disposition: string | null, format: TransferFormat): string {
  const name = /filename="([^"]+)"/.exec(disposition ?? "")?.[1];
  return name ?? `document.${format === "archive" ? "json" : format}`;
}

/** Saves the document as a file of the chosen format, as the browser saves any download. */
export async function downloadExport(docId: string, format: TransferFormat): Promise<void> {
  const { blob, name } = await withAccessToken(async (token) => {
    const res = await fetch(`${docPath(docId)}/export?format=${format}`, { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) throw await errorFrom(res);
    return { blob: await res.blob(), name: fileNameFrom(res.headers.get("content-disposition"), format) };
  });
  saveBlob(blob, name);
}

/**
 * Saves a whole workspace (GET /api/workspaces/:id/export, for its owners, admins and auditors):
 * one NDJSON file, a line for the workspace and one per document. The server streams it page by
 * page; a page that failed after the first ends it with an error line, which is reported here
 * instead of saving half an archive.
 */
export async function downloadWorkspaceExport(workspaceId: string, name: string): Promise<void> {
  const text = await withAccessToken(async (token) => {
    const res = await fetch(`/api/workspaces/${encodeURIComponent(workspaceId)}/export`, { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) throw await errorFrom(res);
    return res.text();
  });
  const last = text.trimEnd().split("\n").at(-1) ?? "";
  const failed = /^\{"type":"error"/.test(last) ? (JSON.parse(last) as { code: string; message: string }) : null;
  if (failed) throw new ApiError(500, failed.code, failed.message);
  const safe = name.replace(/[^\w.-]+/g, "-").replace(/^-+|-+$/g, "") || "workspace";
  saveBlob(new Blob([text], { type: "application/x-ndjson" }), `${safe}.palimpsest-workspace.ndjson`);
}

function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the blob to the download by the time the next task runs.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

const FORMATS: { pattern: RegExp; format: TransferFormat; type: string }[] = [
  { pattern: /\.(md|markdown)$/i, format: "md", type: "text/markdown" },
  { pattern: /\.html?$/i, format: "html", type: "text/html" },
  { pattern: /\.json$/i, format: "archive", type: "application/json" },
];

/** What the file picker offers. */
export const IMPORT_ACCEPT = ".md,.markdown,.html,.htm,.json";

/** A new document of mine from a Markdown, HTML or archive file (`.json`, from an export). */
/** `workspaceId`: made in that workspace; my own documents without it. */
export async function importFile(file: File, workspaceId: string | null = null): Promise<DocSummary> {
  const kind = FORMATS.find((f) => f.pattern.test(file.name));
  if (!kind) throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Choose a Markdown (.md), HTML (.html) or archive (.json) file.");
  if (file.size > IMPORT_MAX_BYTES) throw new ApiError(413, "PAYLOAD_TOO_LARGE", `The file is larger than ${Math.round(IMPORT_MAX_BYTES / 1024 / 1024)} MB.`);
  // The server names it: an archive by its own title, Markdown and HTML by their first heading.
  return withAccessToken(async (token) => {
    const where = workspaceId ? `&workspaceId=${encodeURIComponent(workspaceId)}` : "";
    const res = await fetch(`/api/docs/import?format=${kind.format}${where}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": kind.type, Accept: "application/json" },
      body: file,
    });
    if (!res.ok) throw await errorFrom(res);
    return (await res.json()) as DocSummary;
  });
}
