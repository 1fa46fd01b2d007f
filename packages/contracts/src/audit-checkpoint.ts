import { createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { canonicalJson } from "./audit.ts";

/**
 * Signed checkpoints of a document's edit chain: the history service's statement "after edit
 * `seq`, document `docId`'s chain head was `editHead`", signed at time `at` with the Ed25519 key
 * `kid`. The hash chain alone shows a trail is internally consistent; whoever holds the file can
 * rewrite every edit and recompute every hash. A checkpoint signed by the service, checked with
 * its published public key, ties the chain to what the service saw, so a wholesale rewrite no
 * longer verifies.
 *
 * What is signed: the bytes of CHECKPOINT_SIGNING_PREFIX followed by the canonical JSON of the
 * statement (canonicalJson in audit.ts). The prefix keeps these signatures from ever reading as
 * a signature over anything else made with the same key.
 */
export const CHECKPOINT_SIGNING_PREFIX = "palimpsest-audit-checkpoint-v1\n";

export interface CheckpointStatement {
  docId: string;
  /** The edit the checkpoint follows: 0 for a document without edits (the head is then GENESIS_HASH). */
  seq: number;
  /** The edit chain's hash after edit `seq`. */
  editHead: string;
  /** When it was signed, ISO 8601: the signing key must have been valid then. */
  at: string;
  kid: string;
}

/** A checkpoint line of the audit trail (format version 2): it follows the edit line of its `seq`. */
export interface AuditCheckpointLine extends CheckpointStatement {
  type: "checkpoint";
  /** Ed25519 signature, base64url without padding. */
  sig: string;
}

/** One public key of `GET /.well-known/audit-keys.json`: a JWK with the period it signed in. */
export interface AuditPublicKey {
  kid: string;
  kty: "OKP";
  alg: "EdDSA";
  crv: "Ed25519";
  /** The public key, base64url (JWK). */
  x: string;
  /** It signed checkpoints from this time ... */
  validFrom: string;
  /** ... until this one, when the next key took over; absent for the key signing now. */
  validUntil?: string;
}

export interface AuditKeySet {
  keys: AuditPublicKey[];
}

export function checkpointSigningInput(s: CheckpointStatement): Buffer {
  const { docId, seq, editHead, at, kid } = s;
  return Buffer.from(CHECKPOINT_SIGNING_PREFIX + canonicalJson({ docId, seq, editHead, at, kid }), "utf8");
}

/** Ed25519 is deterministic: the same statement and key always give the same signature. */
export function signCheckpoint(s: CheckpointStatement, privateKey: KeyObject): AuditCheckpointLine {
  const sig = sign(null, checkpointSigningInput(s), privateKey).toString("base64url");
  return { type: "checkpoint", docId: s.docId, seq: s.seq, editHead: s.editHead, at: s.at, kid: s.kid, sig };
}

export function publicKeyOf(key: Pick<AuditPublicKey, "x">): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: key.x }, format: "jwk" });
}

export type CheckpointCheck =
  | { ok: true; key: AuditPublicKey }
  | { ok: false; reason: "unknown-key" | "key-not-valid-then" | "bad-signature"; message: string };

/**
 * Whether a checkpoint was signed by one of `keys`, with the key that was valid at its time.
 * A time outside the key's period fails: a key retired (say, after a leak) cannot vouch for later statements.
 */
export function checkCheckpoint(line: AuditCheckpointLine, keys: readonly AuditPublicKey[]): CheckpointCheck {
  return checkSignature(line, keys, checkpointSigningInput(line));
}

const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** A key set as read from a file or a response: its well-formed keys, or the reason it has none. */
export function parseAuditKeySet(value: unknown): AuditPublicKey[] | string {
  const keys = typeof value === "object" && value !== null ? (value as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) return "not a key set: expected {\"keys\": [...]}";
  const out: AuditPublicKey[] = [];
  for (const k of keys as unknown[]) {
    const o = (typeof k === "object" && k !== null ? k : {}) as Record<string, unknown>;
    if (!isString(o["kid"]) || o["crv"] !== "Ed25519" || !isString(o["x"]) || !isString(o["validFrom"]) || !Number.isFinite(Date.parse(o["validFrom"]))) continue;
    const until = o["validUntil"];
    if (until !== undefined && !(isString(until) && Number.isFinite(Date.parse(until)))) continue;
    out.push({ kid: o["kid"], kty: "OKP", alg: "EdDSA", crv: "Ed25519", x: o["x"], validFrom: o["validFrom"], ...(until !== undefined ? { validUntil: until } : {}) });
  }
  return out.length > 0 ? out : "the key set holds no Ed25519 key with a validity period";
}

/**
 * The signed checkpoint of a workspace trail (audit.ts, WORKSPACE_AUDIT_FORMAT): "when the export
 * of workspace `workspaceId` for these members (`membersHash`) ended, its workspace chain held
 * `workspaceEvents` events with head `workspaceHead`, its account chain `accountEvents` with head
 * `accountHead`", signed with the same keys as the documents' checkpoints. Its own prefix keeps it
 * from ever reading as a document checkpoint (or the reverse), and it names the workspace.
 */
export const WORKSPACE_CHECKPOINT_SIGNING_PREFIX = "palimpsest-workspace-audit-checkpoint-v1\n";

export interface WorkspaceCheckpointStatement {
  workspaceId: string;
  workspaceEvents: number;
  workspaceHead: string;
  accountEvents: number;
  accountHead: string;
  /** workspaceMembersHash of the header's members: whose account events the account chain holds. */
  membersHash: string;
  at: string;
  kid: string;
}

export interface WorkspaceAuditCheckpointLine extends WorkspaceCheckpointStatement {
  type: "checkpoint";
  /** Ed25519 signature, base64url without padding. */
  sig: string;
}

export function workspaceCheckpointSigningInput(s: WorkspaceCheckpointStatement): Buffer {
  const { workspaceId, workspaceEvents, workspaceHead, accountEvents, accountHead, membersHash, at, kid } = s;
  return Buffer.from(WORKSPACE_CHECKPOINT_SIGNING_PREFIX + canonicalJson({ workspaceId, workspaceEvents, workspaceHead, accountEvents, accountHead, membersHash, at, kid }), "utf8");
}

export function signWorkspaceCheckpoint(s: WorkspaceCheckpointStatement, privateKey: KeyObject): WorkspaceAuditCheckpointLine {
  const sig = sign(null, workspaceCheckpointSigningInput(s), privateKey).toString("base64url");
  const { workspaceId, workspaceEvents, workspaceHead, accountEvents, accountHead, membersHash, at, kid } = s;
  return { type: "checkpoint", workspaceId, workspaceEvents, workspaceHead, accountEvents, accountHead, membersHash, at, kid, sig };
}

/** As checkCheckpoint, for a workspace trail's checkpoint. */
export function checkWorkspaceCheckpoint(line: WorkspaceAuditCheckpointLine, keys: readonly AuditPublicKey[]): CheckpointCheck {
  return checkSignature(line, keys, workspaceCheckpointSigningInput(line));
}

function checkSignature(line: { kid: string; at: string; sig: string }, keys: readonly AuditPublicKey[], input: Buffer): CheckpointCheck {
  const key = keys.find((k) => k.kid === line.kid);
  if (!key) return { ok: false, reason: "unknown-key", message: `signed with key ${line.kid}, which the key set does not hold` };
  const at = Date.parse(line.at);
  const from = Date.parse(key.validFrom);
  const until = key.validUntil === undefined ? Infinity : Date.parse(key.validUntil);
  if (!Number.isFinite(at) || !(at >= from) || !(at <= until)) {
    return { ok: false, reason: "key-not-valid-then", message: `signed at ${line.at}, outside key ${key.kid}'s period ${key.validFrom} to ${key.validUntil ?? "now"}` };
  }
  let good = false;
  try {
    good = verify(null, input, publicKeyOf(key), Buffer.from(line.sig, "base64url"));
  } catch {
    good = false;
  }
  return good ? { ok: true, key } : { ok: false, reason: "bad-signature", message: `the signature does not verify with key ${key.kid}` };
}
