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

/**
 * The audit trail of a workspace (`GET /api/workspaces/:id/audit`, its owners, admins and
 * auditors): NDJSON, one object per line.
 *
 *   header                      format WORKSPACE_AUDIT_FORMAT, the workspace, when, its members
 *                               then (whose account events it holds) and where each chain comes from
 *   event (chain "workspace")   the workspace's own events (`docs.ws.<id>` in DOCS), in stream order
 *   event (chain "account")     the account, session and API-token events of those members, from the
 *                               AUTH stream (`auth.evt.>`), in stream order
 *   checkpoint                  one signed statement of both chains' heads and the members (audit-checkpoint.ts)
 *   end                         counts and both heads: a file without it is truncated
 *
 * Two hash chains, each from GENESIS_HASH, each hashed as the document trail's event chain
 * (`eventChainHash`, canonical JSON) with the id `workspace:<workspaceId>` for the workspace's
 * events and `accounts:<workspaceId>` for the members' AUTH events (so no line can be moved
 * between the chains, or into a document's trail). All workspace lines come before all account lines.
 *
 * An AUTH event belongs to a member when its `data.userId` is theirs, or, for a session event
 * without one (refreshed, revoked), when the session's `session.started.v1` names them.
 *
 * Secrets never leave the server: in every event of either chain, each field of `data` (at any
 * depth) whose name ends in hash, password, secret or token (case-insensitive: passwordHash,
 * refreshTokenHash, previousTokenHash, resetTokenHash, tokenHash, secretHash ...) has its value
 * replaced by `"redacted:sha256:" + sha256(value as UTF-8)` (`redactSecrets`; a value not a string is taken as its canonical JSON), which still shows when
 * two events name the same secret. The chains are over the events exactly as exported (redacted).
 */
export const WORKSPACE_AUDIT_FORMAT = "palimpsest-workspace-audit";
export const WORKSPACE_AUDIT_VERSION = 1;

export const WORKSPACE_AUDIT_CHAIN_DESCRIPTION = {
  genesis: GENESIS_HASH,
  workspace:
    'hash_n = sha256(hash_{n-1} "\\n" "workspace:" workspaceId "\\n" seq "\\n" canonicalJson(event)), hex; seq counts the workspace\'s events (docs.ws.<workspaceId>, DOCS stream order) from 1',
  account:
    'hash_n = sha256(hash_{n-1} "\\n" "accounts:" workspaceId "\\n" seq "\\n" canonicalJson(event)), hex; seq counts the members\' account, session and API-token events (AUTH stream order) from 1',
  canonicalJson: "no whitespace, object keys sorted by UTF-16 code units, strings and numbers as JSON.stringify writes them",
  redaction: 'every field of an event\'s data, at any depth, whose name ends in hash, password, secret or token (any case) holds "redacted:sha256:" + hex sha256 of its original UTF-8 value; hashes are over the redacted event',
  order: "all workspace lines, then all account lines, then the signed checkpoint of both heads, then the end line",
} as const;

export interface WorkspaceAuditMember {
  userId: string;
  name: string;
  email: string;
  role: string;
}

export interface WorkspaceAuditHeader {
  type: "header";
  format: typeof WORKSPACE_AUDIT_FORMAT;
  version: typeof WORKSPACE_AUDIT_VERSION;
  workspaceId: string;
  exportedAt: string;
  chains: typeof WORKSPACE_AUDIT_CHAIN_DESCRIPTION;
  /** The members when the export began: the account chain holds their events (sorted by userId). */
  members: WorkspaceAuditMember[];
  sources: {
    workspace: { stream: string; subject: string };
    accounts: { stream: string; subject: string; userIds: string[] };
  };
}

export type WorkspaceAuditChain = "workspace" | "account";

export interface WorkspaceAuditEventLine {
  type: "event";
  chain: WorkspaceAuditChain;
  /** Counts the chain's events from 1. */
  seq: number;
  /** Position in the chain's stream (informational, not hashed; must increase). */
  streamSeq: number;
  /** The stored event with its secrets redacted: `{id, type, at, actorId?, data}`. */
  event: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface WorkspaceAuditEndLine {
  type: "end";
  workspaceEvents: number;
  workspaceHead: string;
  accountEvents: number;
  accountHead: string;
}

/** The id a workspace trail's chain is hashed under (the `docId` of `eventChainHash`). */
export function workspaceChainId(chain: WorkspaceAuditChain, workspaceId: string): string {
  return `${chain === "workspace" ? "workspace" : "accounts"}:${workspaceId}`;
}

/** A field of an event's data that holds a secret (or a hash of one), by its name. */
export const SECRET_FIELD = /(?:hash|password|secret|token)$/i;
export const REDACTED_PREFIX = "redacted:sha256:";

/** The value with every secret field replaced by the SHA-256 of its value (see WORKSPACE_AUDIT_CHAIN_DESCRIPTION). */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_FIELD.test(k) && v !== undefined && v !== null) {
      const text = typeof v === "string" ? v : canonicalJson(v);
      out[k] = `${REDACTED_PREFIX}${createHash("sha256").update(text, "utf8").digest("hex")}`;
    } else {
      out[k] = redactSecrets(v);
    }
  }
  return out;
}

/** The first secret field in `value` not redacted, by its path; undefined when there is none. */
export function unredactedSecret(value: unknown, path = ""): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const here = path ? `${path}.${k}` : k;
    if (SECRET_FIELD.test(k) && v !== null && v !== undefined && !(typeof v === "string" && /^redacted:sha256:[0-9a-f]{64}$/.test(v))) return here;
    const inner = unredactedSecret(v, here);
    if (inner) return inner;
  }
  return undefined;
}

/** What the signed checkpoint binds of the member list: sha256 of the canonical JSON of their sorted user ids. */
export function workspaceMembersHash(userIds: readonly string[]): string {
  return createHash("sha256").update(canonicalJson([...userIds].sort())).digest("hex");
}

/** `rpc.history.workspace-audit`: one page of a workspace's NDJSON audit trail. Without a cursor, the first page. */
export const WorkspaceAuditPageInput = Type.Object(
  {
    id: Type.String({ pattern: SAFE_ID_PATTERN }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    pageBytes: Type.Optional(Type.Integer({ minimum: 4096, maximum: 64 * 1024 * 1024 })),
  },
  { additionalProperties: false },
);
export type WorkspaceAuditPageInput = Static<typeof WorkspaceAuditPageInput>;
