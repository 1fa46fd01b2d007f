import fs from "node:fs";
import readline from "node:readline";
import {
  AUDIT_FORMAT,
  AUDIT_VERSIONS_READ,
  GENESIS_HASH,
  WORKSPACE_AUDIT_FORMAT,
  WORKSPACE_AUDIT_VERSION,
  auditOrderKey,
  chainHash,
  checkCheckpoint,
  checkWorkspaceCheckpoint,
  eventChainHash,
  isSubjectSafeId,
  unredactedSecret,
  workspaceChainId,
  workspaceMembersHash,
  type AuditPublicKey,
  type WorkspaceAuditChain,
} from "@palimpsest/contracts";

/**
 * Offline verification of an audit trail (`GET /api/docs/:id/audit`; format in
 * packages/contracts/src/audit.ts): no server, no network, one pass over the lines, so a file of
 * any size is checked in constant memory.
 */

export type FailureKind =
  | "malformed"
  | "header"
  | "missing"
  | "reordered"
  | "duplicate"
  | "broken-link"
  | "bad-base64"
  | "hash-mismatch"
  | "out-of-order"
  | "server-error"
  | "truncated"
  | "end-mismatch"
  | "trailing"
  | "checkpoint-mismatch"
  | "checkpoint-signature"
  | "unsigned-end"
  | "unredacted-secret"
  | "not-a-member";

export interface VerifyFailure {
  ok: false;
  /** 1-based line of the file where the trail breaks. */
  line: number;
  chain: "edit" | "event" | WorkspaceAuditChain | null;
  /** The first sequence number of that chain that cannot be vouched for. */
  seq: number | null;
  kind: FailureKind;
  reason: string;
}

export interface VerifyOk {
  ok: true;
  docId: string;
  edits: number;
  events: number;
  editHead: string;
  eventHead: string;
  /** Checkpoint lines read; each matched the chain where it stands. */
  checkpoints: number;
  /** Whether their signatures were checked (keys were given): then the last edit is covered by one. */
  checkpointsVerified: boolean;
  /** True when `onEdit` stopped the pass early: only the lines read so far were checked. */
  stopped: boolean;
}

export type VerifyResult = VerifyOk | VerifyFailure;

export interface VerifiedEdit {
  seq: number;
  time: string;
  author: string;
  client: string;
  update: Uint8Array;
}

export interface VerifyOptions {
  /** Called with each edit once its line is verified; return "stop" to end the pass there. */
  onEdit?: (edit: VerifiedEdit) => "stop" | void;
  /**
   * The published audit keys (`/.well-known/audit-keys.json`). Given, every checkpoint's signature
   * must verify with the key valid at its time, and a checkpoint must cover the last edit.
   */
  keys?: readonly AuditPublicKey[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function describeFailure(f: VerifyFailure): string {
  const where = f.seq !== null && f.chain ? `${f.chain} seq ${f.seq}` : "the trail";
  return `FAILED at ${where} (line ${f.line}): ${f.kind}: ${f.reason}`;
}

/** Lines of a file, read as a stream. */
export function fileLines(file: string): AsyncIterable<string> {
  return readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
}

export async function verifyTrail(lines: AsyncIterable<string>, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const it = lines[Symbol.asyncIterator]();
  let lineNo = 0;
  let docId = "";
  const edit = { seq: 0, hash: GENESIS_HASH, streamSeq: 0 };
  const event = { seq: 0, hash: GENESIS_HASH, streamSeq: 0 };
  // The merge rule (an event before an edit of the same time) seen from the file: the largest
  // time of the run of lines of one kind must not pass the next line of the other kind.
  let runEdits = { key: -Infinity, seq: 0 };
  let runEvents = { key: -Infinity, seq: 0 };
  let ended = false;
  let checkpoints = 0;
  let coveredSeq = -1;
  const keys = opts.keys;
  const ok = (stopped: boolean): VerifyOk => ({ ok: true, docId, edits: edit.seq, events: event.seq, editHead: edit.hash, eventHead: event.hash, checkpoints, checkpointsVerified: keys !== undefined, stopped });

  const fail = (kind: FailureKind, reason: string, chain: "edit" | "event" | null = null, seq: number | null = null): VerifyFailure => ({
    ok: false,
    line: lineNo,
    chain,
    seq,
    kind,
    reason,
  });

  /** Where a missing seq turns up later in the file, if it does (the rest of the file is only scanned). */
  async function findLater(type: "edit" | "event", seq: number): Promise<number | null> {
    let n = lineNo;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      n++;
      if (!r.value.includes(`"seq":${seq},`)) continue;
      try {
        const o = JSON.parse(r.value) as unknown;
        if (isObject(o) && o["type"] === type && o["seq"] === seq) return n;
      } catch {
        // not a line we are looking for
      }
    }
    return null;
  }

  async function continuity(type: "edit" | "event", chain: { seq: number; hash: string }, o: Record<string, unknown>): Promise<VerifyFailure | null> {
    const seq = o["seq"] as number;
    const expected = chain.seq + 1;
    if (seq === expected) return null;
    if (seq < expected) {
      const same = seq === chain.seq && o["hash"] === chain.hash;
      return fail(same ? "duplicate" : "reordered", same ? `${type} seq ${seq} appears twice` : `${type} seq ${seq} comes after seq ${chain.seq}; expected seq ${expected}`, type, expected);
    }
    const later = await findLater(type, expected);
    return later === null
      ? fail("missing", `${type} seq ${expected} is missing: this line holds seq ${seq}`, type, expected)
      : fail("reordered", `${type} seq ${expected} is out of place: this line holds seq ${seq}, seq ${expected} comes later (line ${later})`, type, expected);
  }

  for (let r = await it.next(); !r.done; r = await it.next()) {
    lineNo++;
    const text = r.value;
    const nextEdit = edit.seq + 1;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      return fail("malformed", "the line is not JSON", lineNo === 1 ? null : "edit", lineNo === 1 ? null : nextEdit);
    }
    if (!isObject(o)) return fail("malformed", "the line is not a JSON object", "edit", nextEdit);
    if (ended) return fail("trailing", "a line after the end line");

    if (lineNo === 1) {
      if (o["type"] !== "header") return fail("header", "the first line is not the header");
      if (o["format"] !== AUDIT_FORMAT) return fail("header", `not a ${AUDIT_FORMAT} file`);
      if (!(AUDIT_VERSIONS_READ as readonly unknown[]).includes(o["version"])) return fail("header", `format version ${String(o["version"])} is not supported (this verifier reads ${AUDIT_VERSIONS_READ.join(" and ")})`);
      if (typeof o["docId"] !== "string" || !isSubjectSafeId(o["docId"])) return fail("header", "the header has no valid docId");
      if (!isObject(o["chains"]) || o["chains"]["genesis"] !== GENESIS_HASH) return fail("header", "the header does not describe the chains this verifier checks");
      docId = o["docId"];
      continue;
    }

    switch (o["type"]) {
      case "edit": {
        const { seq, streamSeq, time, author, client, update, prevHash, hash } = o;
        const via = viaOf(o["via"]);
        if (!isSeq(seq) || !isSeq(streamSeq) || typeof time !== "string" || typeof author !== "string" || typeof client !== "string" || typeof update !== "string" || typeof prevHash !== "string" || typeof hash !== "string" || !HEX64.test(prevHash) || !HEX64.test(hash) || via === null) {
          return fail("malformed", "an edit line lacks a field or has one of the wrong type", "edit", isSeq(seq) ? seq : nextEdit);
        }
        const broken = await continuity("edit", edit, o);
        if (broken) return broken;
        if (prevHash !== edit.hash) return fail("broken-link", `prevHash ${prevHash} is not the hash of edit seq ${edit.seq} (${edit.hash})`, "edit", seq);
        const bytes = Buffer.from(update, "base64");
        if (bytes.toString("base64") !== update) return fail("bad-base64", "the update is not canonical base64", "edit", seq);
        const recomputed = chainHash(edit.hash, { docId, seq, author, client, time, via, update: bytes });
        if (recomputed !== hash) return fail("hash-mismatch", `the line's content hashes to ${recomputed}, the line says ${hash}`, "edit", seq);
        if (streamSeq <= edit.streamSeq) return fail("reordered", `stream seq ${streamSeq} does not follow ${edit.streamSeq}`, "edit", seq);
        const key = auditOrderKey(time);
        if (runEvents.key > key) return fail("out-of-order", `event seq ${runEvents.seq} is listed before this edit but is later (the trail is merged by time)`, "edit", seq);
        runEvents = { key: -Infinity, seq: 0 };
        if (key >= runEdits.key) runEdits = { key, seq };
        edit.seq = seq;
        edit.hash = hash;
        edit.streamSeq = streamSeq;
        if (opts.onEdit?.({ seq, time, author, client, update: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) }) === "stop") {
          return ok(true);
        }
        break;
      }
      case "event": {
        const { seq, streamSeq, prevHash, hash } = o;
        const ev = o["event"];
        if (!isSeq(seq) || !isSeq(streamSeq) || !isObject(ev) || typeof prevHash !== "string" || typeof hash !== "string" || !HEX64.test(prevHash) || !HEX64.test(hash)) {
          return fail("malformed", "an event line lacks a field or has one of the wrong type", "event", isSeq(seq) ? seq : event.seq + 1);
        }
        const broken = await continuity("event", event, o);
        if (broken) return broken;
        if (prevHash !== event.hash) return fail("broken-link", `prevHash ${prevHash} is not the hash of event seq ${event.seq} (${event.hash})`, "event", seq);
        const recomputed = eventChainHash(event.hash, { docId, seq, event: ev });
        if (recomputed !== hash) return fail("hash-mismatch", `the line's content hashes to ${recomputed}, the line says ${hash}`, "event", seq);
        if (streamSeq <= event.streamSeq) return fail("reordered", `stream seq ${streamSeq} does not follow ${event.streamSeq}`, "event", seq);
        const key = auditOrderKey(ev["at"]);
        if (runEdits.key >= key) return fail("out-of-order", `edit seq ${runEdits.seq} is listed before this event but is not earlier (the trail is merged by time)`, "event", seq);
        runEdits = { key: -Infinity, seq: 0 };
        if (key >= runEvents.key) runEvents = { key, seq };
        event.seq = seq;
        event.hash = hash;
        event.streamSeq = streamSeq;
        break;
      }
      case "checkpoint": {
        const { seq, editHead, at, kid, sig } = o;
        if (!Number.isSafeInteger(seq) || (seq as number) < 0 || typeof editHead !== "string" || !HEX64.test(editHead) || typeof at !== "string" || typeof kid !== "string" || typeof sig !== "string" || typeof o["docId"] !== "string") {
          return fail("malformed", "a checkpoint line lacks a field or has one of the wrong type", "edit", edit.seq);
        }
        const cpSeq = seq as number;
        if (o["docId"] !== docId) return fail("checkpoint-mismatch", `a checkpoint of document ${String(o["docId"])} in the trail of ${docId}`, "edit", cpSeq);
        if (cpSeq > edit.seq) return fail("missing", `edit seq ${edit.seq + 1} is missing: this line is the checkpoint of edit seq ${cpSeq}, which follows it`, "edit", edit.seq + 1);
        if (cpSeq !== edit.seq) return fail("checkpoint-mismatch", `the checkpoint of edit seq ${cpSeq} stands after edit seq ${edit.seq}; it must follow the edit it covers`, "edit", cpSeq);
        if (editHead !== edit.hash) {
          return fail("checkpoint-mismatch", `the signed checkpoint says the chain head after edit seq ${cpSeq} was ${editHead}; this file's chain gives ${edit.hash}: the edits up to seq ${cpSeq} are not the ones that were signed`, "edit", cpSeq);
        }
        if (keys) {
          const checked = checkCheckpoint({ type: "checkpoint", docId, seq: cpSeq, editHead, at, kid, sig }, keys);
          if (!checked.ok) return fail("checkpoint-signature", `the checkpoint of edit seq ${cpSeq}: ${checked.message}`, "edit", cpSeq);
        }
        checkpoints++;
        coveredSeq = cpSeq;
        break;
      }
      case "error": {
        const chain = o["chain"] === "event" ? "event" : "edit";
        const seq = isSeq(o["seq"]) ? o["seq"] : chain === "event" ? event.seq + 1 : nextEdit;
        return fail("server-error", `the export itself reports ${String(o["code"])}: ${String(o["message"])}`, chain, seq);
      }
      case "end": {
        if (o["edits"] !== edit.seq) {
          const claimed = Number(o["edits"]);
          return claimed > edit.seq
            ? fail("missing", `the end line counts ${claimed} edits, the file holds ${edit.seq}`, "edit", edit.seq + 1)
            : fail("end-mismatch", `the end line counts ${String(o["edits"])} edits, the file holds ${edit.seq}`, "edit", claimed + 1 || null);
        }
        if (o["events"] !== event.seq) {
          const claimed = Number(o["events"]);
          return claimed > event.seq
            ? fail("missing", `the end line counts ${claimed} events, the file holds ${event.seq}`, "event", event.seq + 1)
            : fail("end-mismatch", `the end line counts ${String(o["events"])} events, the file holds ${event.seq}`, "event", claimed + 1 || null);
        }
        if (o["editHead"] !== edit.hash) return fail("end-mismatch", `the end line's edit head ${String(o["editHead"])} is not the last edit's hash ${edit.hash}`, "edit", edit.seq || null);
        if (o["eventHead"] !== event.hash) return fail("end-mismatch", `the end line's event head ${String(o["eventHead"])} is not the last event's hash ${event.hash}`, "event", event.seq || null);
        if (keys && coveredSeq !== edit.seq) {
          return fail("unsigned-end", `no signed checkpoint covers the last edit (seq ${edit.seq})${coveredSeq >= 0 ? `; the last one covers seq ${coveredSeq}` : "; the file has none"}: its end is not vouched for`, "edit", edit.seq);
        }
        ended = true;
        break;
      }
      case "header":
        return fail("malformed", "a second header", "edit", nextEdit);
      default:
        return fail("malformed", `unknown line type ${JSON.stringify(o["type"])}`, "edit", nextEdit);
    }
  }
  if (lineNo === 0) return fail("header", "the file is empty");
  if (!ended) return fail("truncated", `the file ends after edit seq ${edit.seq} and event seq ${event.seq} without its end line`, "edit", edit.seq + 1);
  return ok(false);
}

/** An edit line's API token: absent (undefined), well-formed, or null when malformed. */
function viaOf(value: unknown): { tokenId: string; name: string } | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) return null;
  const { tokenId, name } = value as Record<string, unknown>;
  return typeof tokenId === "string" && tokenId.length > 0 && typeof name === "string" ? { tokenId, name } : null;
}

export interface WorkspaceVerifyOk {
  ok: true;
  workspaceId: string;
  /** The members the header names (whose account events the account chain holds). */
  members: number;
  workspaceEvents: number;
  accountEvents: number;
  workspaceHead: string;
  accountHead: string;
  checkpoints: number;
  /** Whether the checkpoint's signature was checked (keys were given): then one covers both heads. */
  checkpointsVerified: boolean;
}

export type WorkspaceVerifyResult = WorkspaceVerifyOk | VerifyFailure;

/** The format named by a file's first line, or undefined when it names none. */
export function formatOf(firstLine: string): string | undefined {
  try {
    const o = JSON.parse(firstLine) as unknown;
    return isObject(o) && typeof o["format"] === "string" ? o["format"] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Offline verification of a workspace's audit trail (`GET /api/workspaces/:id/audit`; format in
 * packages/contracts/src/audit.ts, WORKSPACE_AUDIT_FORMAT): both chains, their continuity and stream
 * order, that every secret field is redacted and every account event that names a user names a
 * member, the signed checkpoint of both heads and the members, and the end line. One pass.
 */
export async function verifyWorkspaceTrail(lines: AsyncIterable<string>, opts: { keys?: readonly AuditPublicKey[] } = {}): Promise<WorkspaceVerifyResult> {
  let lineNo = 0;
  let workspaceId = "";
  let membersHash = "";
  let memberIds = new Set<string>();
  const chains: Record<WorkspaceAuditChain, { seq: number; hash: string; streamSeq: number }> = {
    workspace: { seq: 0, hash: GENESIS_HASH, streamSeq: 0 },
    account: { seq: 0, hash: GENESIS_HASH, streamSeq: 0 },
  };
  let accountSeen = false;
  let checkpoints = 0;
  let ended = false;
  const keys = opts.keys;
  const fail = (kind: FailureKind, reason: string, chain: WorkspaceAuditChain | null = null, seq: number | null = null): VerifyFailure => ({ ok: false, line: lineNo, chain, seq, kind, reason });

  for await (const text of lines) {
    lineNo++;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      return fail("malformed", "the line is not JSON");
    }
    if (!isObject(o)) return fail("malformed", "the line is not a JSON object");
    if (ended) return fail("trailing", "a line after the end line");
    if (lineNo === 1) {
      if (o["type"] !== "header") return fail("header", "the first line is not the header");
      if (o["format"] !== WORKSPACE_AUDIT_FORMAT) return fail("header", `not a ${WORKSPACE_AUDIT_FORMAT} file`);
      if (o["version"] !== WORKSPACE_AUDIT_VERSION) return fail("header", `format version ${String(o["version"])} is not supported (this verifier reads ${WORKSPACE_AUDIT_VERSION})`);
      if (typeof o["workspaceId"] !== "string" || !isSubjectSafeId(o["workspaceId"])) return fail("header", "the header has no valid workspaceId");
      if (!isObject(o["chains"]) || o["chains"]["genesis"] !== GENESIS_HASH) return fail("header", "the header does not describe the chains this verifier checks");
      const members = o["members"];
      if (!Array.isArray(members) || !members.every((m) => isObject(m) && typeof m["userId"] === "string")) return fail("header", "the header does not list the members");
      workspaceId = o["workspaceId"];
      const ids = (members as Record<string, unknown>[]).map((m) => m["userId"] as string);
      memberIds = new Set(ids);
      membersHash = workspaceMembersHash(ids);
      continue;
    }
    switch (o["type"]) {
      case "event": {
        const { chain, seq, streamSeq, prevHash, hash } = o;
        const ev = o["event"];
        if (chain !== "workspace" && chain !== "account") return fail("malformed", `an event line of no known chain (${JSON.stringify(chain)})`);
        const state = chains[chain];
        if (!isSeq(seq) || !isSeq(streamSeq) || !isObject(ev) || typeof prevHash !== "string" || typeof hash !== "string" || !HEX64.test(prevHash) || !HEX64.test(hash)) {
          return fail("malformed", "an event line lacks a field or has one of the wrong type", chain, isSeq(seq) ? seq : state.seq + 1);
        }
        if (checkpoints > 0) return fail("reordered", "an event line after the signed checkpoint", chain, seq);
        if (chain === "workspace" && accountSeen) return fail("reordered", "a workspace event after the account events (all workspace lines come first)", chain, seq);
        if (chain === "account") accountSeen = true;
        if (seq !== state.seq + 1) {
          const same = seq === state.seq && hash === state.hash;
          if (seq < state.seq + 1) return fail(same ? "duplicate" : "reordered", same ? `${chain} seq ${seq} appears twice` : `${chain} seq ${seq} comes after seq ${state.seq}`, chain, state.seq + 1);
          return fail("missing", `${chain} seq ${state.seq + 1} is missing: this line holds seq ${seq}`, chain, state.seq + 1);
        }
        if (prevHash !== state.hash) return fail("broken-link", `prevHash ${prevHash} is not the hash of ${chain} seq ${state.seq} (${state.hash})`, chain, seq);
        const recomputed = eventChainHash(state.hash, { docId: workspaceChainId(chain, workspaceId), seq, event: ev });
        if (recomputed !== hash) return fail("hash-mismatch", `the line's content hashes to ${recomputed}, the line says ${hash}`, chain, seq);
        if (streamSeq <= state.streamSeq) return fail("reordered", `stream seq ${streamSeq} does not follow ${state.streamSeq}`, chain, seq);
        const secret = unredactedSecret(ev["data"]);
        if (secret) return fail("unredacted-secret", `the event's data.${secret} is not redacted`, chain, seq);
        const data = ev["data"];
        if (chain === "account" && isObject(data) && typeof data["userId"] === "string" && !memberIds.has(data["userId"])) {
          return fail("not-a-member", `the event names user ${data["userId"]}, who is not among the header's members`, chain, seq);
        }
        state.seq = seq;
        state.hash = hash;
        state.streamSeq = streamSeq;
        break;
      }
      case "checkpoint": {
        const { workspaceEvents, workspaceHead, accountEvents, accountHead, at, kid, sig } = o;
        if (
          typeof o["workspaceId"] !== "string" || !Number.isSafeInteger(workspaceEvents) || !Number.isSafeInteger(accountEvents) || typeof workspaceHead !== "string" ||
          typeof accountHead !== "string" || typeof o["membersHash"] !== "string" || typeof at !== "string" || typeof kid !== "string" || typeof sig !== "string"
        ) {
          return fail("malformed", "a checkpoint line lacks a field or has one of the wrong type");
        }
        if (o["workspaceId"] !== workspaceId) return fail("checkpoint-mismatch", `a checkpoint of workspace ${o["workspaceId"]} in the trail of ${workspaceId}`);
        if (o["membersHash"] !== membersHash) return fail("checkpoint-mismatch", "the signed checkpoint names other members than the header");
        for (const [chain, count, head] of [["workspace", workspaceEvents, workspaceHead], ["account", accountEvents, accountHead]] as const) {
          const state = chains[chain];
          if (count !== state.seq) {
            return (count as number) > state.seq
              ? fail("missing", `the signed checkpoint covers ${String(count)} ${chain} events; the file holds ${state.seq} before it`, chain, state.seq + 1)
              : fail("checkpoint-mismatch", `the signed checkpoint covers ${String(count)} ${chain} events; the file holds ${state.seq} before it`, chain, (count as number) + 1);
          }
          if (head !== state.hash) {
            return fail("checkpoint-mismatch", `the signed checkpoint says the ${chain} chain's head after seq ${state.seq} was ${head}; this file's chain gives ${state.hash}: its ${chain} events are not the ones that were signed`, chain, state.seq);
          }
        }
        if (keys) {
          const checked = checkWorkspaceCheckpoint(
            { type: "checkpoint", workspaceId, workspaceEvents: workspaceEvents as number, workspaceHead, accountEvents: accountEvents as number, accountHead, membersHash, at, kid, sig },
            keys,
          );
          if (!checked.ok) return fail("checkpoint-signature", `the workspace checkpoint: ${checked.message}`);
        }
        checkpoints++;
        break;
      }
      case "error":
        return fail("server-error", `the export itself reports ${String(o["code"])}: ${String(o["message"])}`);
      case "end": {
        for (const [chain, count, head] of [["workspace", o["workspaceEvents"], o["workspaceHead"]], ["account", o["accountEvents"], o["accountHead"]]] as const) {
          const state = chains[chain];
          if (count !== state.seq) {
            return Number(count) > state.seq
              ? fail("missing", `the end line counts ${String(count)} ${chain} events, the file holds ${state.seq}`, chain, state.seq + 1)
              : fail("end-mismatch", `the end line counts ${String(count)} ${chain} events, the file holds ${state.seq}`, chain, Number(count) + 1 || null);
          }
          if (head !== state.hash) return fail("end-mismatch", `the end line's ${chain} head ${String(head)} is not the last ${chain} event's hash ${state.hash}`, chain, state.seq || null);
        }
        if (keys && checkpoints === 0) return fail("unsigned-end", "no signed checkpoint covers the chains' heads; the file has none: its end is not vouched for");
        ended = true;
        break;
      }
      case "header":
        return fail("malformed", "a second header");
      default:
        return fail("malformed", `unknown line type ${JSON.stringify(o["type"])}`);
    }
  }
  if (lineNo === 0) return fail("header", "the file is empty");
  if (!ended) return fail("truncated", "the file ends without its end line");
  const { workspace, account } = chains;
  return {
    ok: true,
    workspaceId,
    members: memberIds.size,
    workspaceEvents: workspace.seq,
    accountEvents: account.seq,
    workspaceHead: workspace.hash,
    accountHead: account.hash,
    checkpoints,
    checkpointsVerified: keys !== undefined,
  };
}
