import { createHash } from "node:crypto";
import { EditHeaders } from "./edits.ts";

/**
 * How an edit's headers are written, read and deduplicated: the one place for it, because the
 * history service hashes what is read here into the audit chain, and every writer must produce
 * what every reader expects. No NATS types (nats.js's `MsgHdrs` fits the interfaces below). The
 * message id hashes with node:crypto, on the edit path of every append: the browser never writes
 * edits to the stream, so this module is not part of the browser entry.
 */

export interface HeaderSink {
  set(name: string, value: string): void;
}

export interface HeaderSource {
  get(name: string): string | null | undefined;
}

/** The API token an edit was made through, on its owner's behalf. */
export interface EditVia {
  tokenId: string;
  name: string;
}

/** Who made an edit and through which connection and replica. */
export interface EditOrigin {
  author: string;
  /** Through an API token: which one (the author is its owner). */
  via?: EditVia;
  /** The connection it came from (`restore:<uuid>` for a restore). */
  client: string;
  /** The process that stored it: a sync replica's id, or `history` for a restore. */
  replica: string;
}

/** An edit's origin as read back, and the time it was stored. */
export interface EditStamp extends EditOrigin {
  /** The text of the `Collab-Time` header, or the stream's own timestamp when it has none. */
  time: string;
}

/**
 * Writes the headers of a new edit. Their order is part of the stored format (headers are stored
 * as written), so it stays author, client, time, replica, then the token's id and name when the
 * edit came through one.
 */
export function writeEditHeaders(headers: HeaderSink, origin: EditOrigin, at: Date = new Date()): void {
  headers.set(EditHeaders.author, origin.author);
  headers.set(EditHeaders.client, origin.client);
  headers.set(EditHeaders.time, at.toISOString());
  headers.set(EditHeaders.replica, origin.replica);
  if (origin.via) {
    headers.set(EditHeaders.viaToken, origin.via.tokenId);
    headers.set(EditHeaders.viaName, encodeURIComponent(origin.via.name));
  }
}

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Reads an edit's headers. A missing header reads as "", except the time: an edit stored without
 * one (written by hand, or by a writer before the header existed) takes the stream's timestamp,
 * to the millisecond, so its chain hash is the same whoever reads it.
 * `storedAtNanos` is the message's stream timestamp (nats.js: `info.timestampNanos`).
 */
export function readEditHeaders(headers: HeaderSource | undefined, storedAtNanos: number): EditStamp {
  const tokenId = headers?.get(EditHeaders.viaToken) || "";
  return {
    author: headers?.get(EditHeaders.author) || "",
    client: headers?.get(EditHeaders.client) || "",
    replica: headers?.get(EditHeaders.replica) || "",
    time: headers?.get(EditHeaders.time) || new Date(storedAtNanos / 1e6).toISOString(),
    // Edits from before tokens, and every edit of a signed-in person, have none.
    ...(tokenId ? { via: { tokenId, name: decodedName(headers?.get(EditHeaders.viaName) || "") } } : {}),
  };
}

/**
 * The `Nats-Msg-Id` JetStream deduplicates an edit on: base64url(sha256(docId ":" update)). The
 * same bytes for the same document are the same Yjs content, so a retried append is stored once.
 */
export function editMessageId(docId: string, update: Uint8Array): string {
  return createHash("sha256").update(`${docId}:`).update(update).digest("base64url");
}
