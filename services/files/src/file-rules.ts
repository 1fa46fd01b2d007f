import { AppError, type AnyDomainEvent } from "@palimpsest/contracts";

/**
 * What an upload must satisfy and how stored files are named and served. Pure: no I/O here.
 */

/** Bytes read from the start of a file to tell its type (what file-type needs for every format it knows). */
export const SNIFF_BYTES = 4_100;

/** Where a file lives: beside the other files of its document, so a document's objects share a prefix. */
export const objectKey = (docId: string, fileId: string) => `files/${docId}/${fileId}`;
export const documentPrefix = (docId: string) => `files/${docId}/`;
/** Thumbnails sit beside their original. */
export const thumbnailKey = (key: string) => `${key}.thumb.webp`;
/**
 * Presigned PUTs land under their own prefix and are moved into place only once confirmed: a
 * presigned URL cannot be revoked, so whatever arrives after a refusal or never gets confirmed
 * stays where the sweeper (or a lifecycle rule on this prefix) clears it.
 */
export const UPLOADS_PREFIX = "uploads/";
export const uploadKey = (fileId: string) => `${UPLOADS_PREFIX}${fileId}`;

const THUMBNAILABLE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/tiff"]);
export const hasThumbnail = (contentType: string) => THUMBNAILABLE.has(contentType);

/**
 * Why an image is too large to make a thumbnail of, from the dimensions its header claims, or
 * undefined when it is not. Unknown dimensions are refused: nothing is decoded blind.
 */
export function oversizedImage(width: number | undefined, height: number | undefined, maxPixels: number): string | undefined {
  if (!width || !height) return "the image's dimensions could not be read";
  if (width * height > maxPixels) return `the image is ${width}×${height} pixels; thumbnails are made of images up to ${maxPixels} pixels`;
  return undefined;
}

export interface Limits {
  maxBytes: number;
  quotaBytes: number;
  allowedTypes: readonly string[];
}

export function checkSize(size: number, max: number, how: string): void {
  if (size > max) throw new AppError("PAYLOAD_TOO_LARGE", `the file is ${size} bytes; ${how} takes at most ${max}`, { details: { size, max } });
}

/** The type the bytes show must be allowed; the name and the claimed type are never trusted. */
export function checkType(sniffed: string | undefined, allowed: readonly string[]): string {
  if (!sniffed || !allowed.includes(sniffed)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `${sniffed ? `files of type ${sniffed}` : "files of this type"} cannot be attached; allowed: ${allowed.join(", ")}`, {
      details: { detected: sniffed ?? null, allowed },
    });
  }
  return sniffed;
}

export function checkQuota(usedBytes: number, size: number, quotaBytes: number): void {
  if (usedBytes + size > quotaBytes) {
    throw new AppError("QUOTA_EXCEEDED", `this upload would take your files to ${usedBytes + size} bytes; your quota is ${quotaBytes}`, {
      details: { used: usedBytes, size, quota: quotaBytes },
    });
  }
}

/** Control characters, and the marks that reorder text on screen (a name shown as "gpj.exe" that is "exe.jpg"). */
function isUnsafeChar(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/**
 * A file name safe to store and show: no directories, no control or bidi-override characters,
 * at most 255 characters. What the uploader called it, otherwise.
 */
export function safeFileName(raw: string | undefined): string {
  const base = (raw ?? "").split(/[\\/]/).pop() ?? "";
  const cleaned = [...base.normalize("NFC")]
    .filter((ch) => !isUnsafeChar(ch.codePointAt(0) ?? 0))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
  const chars = [...cleaned];
  const name = chars.length > 255 ? chars.slice(0, 255).join("") : cleaned;
  return name === "" || name === "." || name === ".." ? "file" : name;
}

/** RFC 5987 `ext-value` characters: everything else is percent-encoded from UTF-8. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `Content-Disposition` with a plain-ASCII `filename` for old clients and the exact name in
 * `filename*` (RFC 6266 / RFC 5987), so no name can break out of the header or the quotes.
 */
export function contentDisposition(kind: "inline" | "attachment", name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

/** Images are shown where they are linked; anything else is saved unless asked otherwise. */
export const dispositionFor = (contentType: string, download: boolean | undefined): "inline" | "attachment" =>
  download || !contentType.startsWith("image/") ? "attachment" : "inline";

/** A file's bytes never change under its id, so its id is a strong validator. */
export const etagOf = (fileId: string, variant: "original" | "thumbnail") => `"${fileId}${variant === "thumbnail" ? "-thumb" : ""}"`;

export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

export interface LiveFile {
  fileId: string;
  key: string;
}

/** The files of a document still attached after its file events, in order: what a purge must delete. */
export function liveFiles(events: Iterable<AnyDomainEvent>): LiveFile[] {
  const live = new Map<string, LiveFile>();
  for (const e of events) {
    if (e.type === "file.uploaded.v1") live.set(e.data.fileId, { fileId: e.data.fileId, key: e.data.key });
    else if (e.type === "file.deleted.v1") live.delete(e.data.fileId);
  }
  return [...live.values()];
}
