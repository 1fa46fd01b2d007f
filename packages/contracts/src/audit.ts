import { createHash } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import type { AuditCheckpointLine } from "./audit-checkpoint.ts";
import { GENESIS_HASH } from "./edit-chain.ts";
import { SAFE_ID_PATTERN } from "./ids.ts";

/**
 * The audit trail of one document (`GET /api/docs/:id/audit`): NDJSON, one object per line.
 *
 *   header                      what the file is and how its chains are defined
 *   edit | event, ...           every edit and every metadata event, merged by time (see below)
 *   checkpoint                  (version 2) a signed checkpoint of the edit chain, right after the
 *                               edit it covers (after the header for seq 0): audit-checkpoint.ts
 *   end                         counts and the head of each chain: a file without it is truncated
 *
 * Two hash chains, both starting from GENESIS_HASH:
 * - edits: `chainHash` (edit-chain.ts), the same chain the history service stores per edit;
 * - events (the document's metadata events from the DOCS stream: created, renamed, shared ...,
 *   and its file events: uploaded, thumbnail ready, deleted; one chain in stream order):
 *   `eventChainHash` below, over the canonical JSON of each stored event.
 * Lines are merged by `auditOrderKey` of their times, an event first on a tie; the verifier checks
 * that too, so every line's place in the file is determined by hashed content.
 * A line `{"type":"error"}` means the server found its stored log and the stream disagreeing;
 * the export stops there and no verifier accepts it.
 */
export const AUDIT_FORMAT = "palimpsest-audit";
/**
 * Version 2 added checkpoint lines, and nothing else: a version 1 file is a version 2 file without
 * them, so verifiers read both; a reader that knows only version 1 refuses version 2 by its header.
 */
export const AUDIT_VERSION = 2;
export const AUDIT_VERSIONS_READ = [1, 2] as const;
export const AUDIT_CONTENT_TYPE = "application/x-ndjson";

export const AUDIT_CHAIN_DESCRIPTION = {
  genesis: GENESIS_HASH,
  edit:
    'hash_n = sha256(hash_{n-1} "\\n" docId "\\n" seq "\\n" author "\\n" client "\\n" time "\\n" update-bytes), hex; seq counts the document\'s edits from 1; update is the base64 of update-bytes. ' +
    'An edit line with via {tokenId, name} (made through an API token) hashes "v2\\n" hash_{n-1} "\\n" docId "\\n" seq "\\n" author "\\n" client "\\n" time "\\n" tokenId "\\n" encodeURIComponent(name) "\\n" update-bytes instead',
  event:
    'hash_n = sha256(hash_{n-1} "\\n" docId "\\n" seq "\\n" canonicalJson(event)), hex; seq counts the document\'s metadata events (its own and its files\', in DOCS stream order) from 1; canonicalJson: no whitespace, object keys sorted by UTF-16 code units, strings and numbers as JSON.stringify writes them',
  order:
    "edits and events are merged by time (edit: Date.parse(time), event: Date.parse(event.at), unparsable = 0), an event before an edit of the same time; each chain keeps its own stream order",
} as const;

export interface AuditHeader {
  type: "header";
  format: typeof AUDIT_FORMAT;
  version: (typeof AUDIT_VERSIONS_READ)[number];
  docId: string;
  exportedAt: string;
  chains: typeof AUDIT_CHAIN_DESCRIPTION;
  source: { edits: { stream: string; subject: string }; events: { stream: string; subject: string; fileSubject: string } };
}

export interface AuditEditLine {
  type: "edit";
  /** The document's version: 1 for its first edit. */
  seq: number;
  /** Position in the EDITS stream (informational, not hashed; must increase). */
  streamSeq: number;
  /** The exact `Collab-Time` text the hash covers. */
  time: string;
  author: string;
  client: string;
  /** Made through an API token of the author's: which one. Hashed (see chainHash); absent otherwise. */
  via?: { tokenId: string; name: string };
  /** The raw Yjs update, base64 (standard alphabet, padded). */
  update: string;
  prevHash: string;
  hash: string;
}

export interface AuditEventLine {
  type: "event";
  /** Counts the document's metadata events from 1. */
  seq: number;
  /** Position in the DOCS stream (informational, not hashed; must increase). */
  streamSeq: number;
  /** The stored event as it is: `{id, type, at, actorId?, data}`. */
  event: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditErrorLine {
  type: "error";
  code: string;
  message: string;
  chain?: "edit" | "event" | "checkpoint";
  seq?: number;
  streamSeq?: number;
}

export interface AuditEndLine {
  type: "end";
  edits: number;
  events: number;
  editHead: string;
  eventHead: string;
}

export type AuditLine = AuditHeader | AuditEditLine | AuditEventLine | AuditCheckpointLine | AuditErrorLine | AuditEndLine;

/** JSON with no whitespace and object keys sorted, so the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
  }
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`not representable as JSON: ${typeof value}`);
  return text;
}

export interface ChainedEvent {
  docId: string;
  /** 1 for the document's first metadata event. */
  seq: number;
  event: unknown;
}

/** The metadata events' chain: `sha256(prev "\n" docId "\n" seq "\n" canonicalJson(event))`. */
export function eventChainHash(previousHash: string, e: ChainedEvent): string {
  return createHash("sha256").update(`${previousHash}\n${e.docId}\n${e.seq}\n`).update(canonicalJson(e.event)).digest("hex");
}

/** Where a line sorts in the merged trail: milliseconds since the epoch, 0 when the time does not parse. */
export function auditOrderKey(time: unknown): number {
  const t = typeof time === "string" ? Date.parse(time) : NaN;
  return Number.isFinite(t) ? t : 0;
}

/** `rpc.history.audit`: one page of the NDJSON export. Without a cursor, the first page (with the header). */
export const AuditPageInput = Type.Object(
  {
    id: Type.String({ pattern: SAFE_ID_PATTERN }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /** Largest page, in bytes of the reply; the default fits the NATS max payload. */
    pageBytes: Type.Optional(Type.Integer({ minimum: 4096, maximum: 64 * 1024 * 1024 })),
  },
  { additionalProperties: false },
);
export type AuditPageInput = Static<typeof AuditPageInput>;

export interface AuditPage {
  /** NDJSON text; pages concatenated give the file (a long line may span pages). */
  chunk: string;
  /** Pass back for the next page; null after the last. */
  nextCursor: string | null;
}
