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
export async function importFile(file: File): Promise<DocSummary> {
  const kind = FORMATS.find((f) => f.pattern.test(file.name));
  if (!kind) throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Choose a Markdown (.md), HTML (.html) or archive (.json) file.");
  if (file.size > IMPORT_MAX_BYTES) throw new ApiError(413, "PAYLOAD_TOO_LARGE", `The file is larger than ${Math.round(IMPORT_MAX_BYTES / 1024 / 1024)} MB.`);
  // The server names it: an archive by its own title, Markdown and HTML by their first heading.
  return withAccessToken(async (token) => {
    const res = await fetch(`/api/docs/import?format=${kind.format}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": kind.type, Accept: "application/json" },
      body: file,
    });
    if (!res.ok) throw await errorFrom(res);
    return (await res.json()) as DocSummary;
  });
}
