import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import * as Y from "yjs";

/**
 * The y-websocket wire format: every message starts with a varuint type.
 * Sync messages carry a second varuint (step 1, step 2, update) and a varuint8array payload.
 */
export const MessageType = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const;
export const SyncType = { step1: 0, step2: 1, update: 2 } as const;
export const AuthType = { permissionDenied: 0 } as const;

export function encodeSyncStep1(doc: Y.Doc): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MessageType.sync);
  encoding.writeVarUint(e, SyncType.step1);
  encoding.writeVarUint8Array(e, Y.encodeStateVector(doc));
  return encoding.toUint8Array(e);
}

export function encodeSyncStep2(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MessageType.sync);
  encoding.writeVarUint(e, SyncType.step2);
  encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(doc, stateVector));
  return encoding.toUint8Array(e);
}

export function encodeUpdate(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MessageType.sync);
  encoding.writeVarUint(e, SyncType.update);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

export function encodeAwareness(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MessageType.awareness);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

export function encodePermissionDenied(reason: string): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MessageType.auth);
  encoding.writeVarUint(e, AuthType.permissionDenied);
  encoding.writeVarString(e, reason);
  return encoding.toUint8Array(e);
}

export type IncomingMessage =
  | { type: "sync-step1"; stateVector: Uint8Array }
  | { type: "sync-update"; update: Uint8Array }
  | { type: "awareness"; update: Uint8Array }
  | { type: "query-awareness" }
  | { type: "auth" };

/** Decodes one client message; throws on anything malformed, which the caller turns into a close. */
export function decodeMessage(data: Uint8Array): IncomingMessage {
  const d = decoding.createDecoder(data);
  const type = decoding.readVarUint(d);
  switch (type) {
    case MessageType.sync: {
      const syncType = decoding.readVarUint(d);
      const payload = decoding.readVarUint8Array(d);
      if (syncType === SyncType.step1) return { type: "sync-step1", stateVector: payload };
      if (syncType === SyncType.step2 || syncType === SyncType.update) return { type: "sync-update", update: payload };
      throw new Error(`unknown sync message type ${syncType}`);
    }
    case MessageType.awareness:
      return { type: "awareness", update: decoding.readVarUint8Array(d) };
    case MessageType.queryAwareness:
      return { type: "query-awareness" };
    case MessageType.auth:
      return { type: "auth" };
    default:
      throw new Error(`unknown message type ${type}`);
  }
}

/**
 * Checks that bytes are a well-formed Yjs update and says whether it carries anything:
 * an update with no structs and no deletions (what a client sends when it has nothing new)
 * is not worth storing, and neither is one whose every struct and deletion the document
 * (`known`) already holds.
 */
export function inspectUpdate(
  update: Uint8Array,
  known?: Y.Doc,
): { empty: boolean; nothingNew: boolean; decoded: ReturnType<typeof Y.decodeUpdate> } {
  const decoded = Y.decodeUpdate(update);
  // A deleted range of no length (or past any real clock) decodes, but every reader that later
  // re-encodes its pending deletions throws on it: the document could no longer be replayed.
  for (const ranges of decoded.ds.clients.values()) {
    for (const r of ranges) {
      if (!(r.len > 0) || !Number.isSafeInteger(r.clock + r.len)) throw new Error(`deleted range ${r.clock}+${r.len} is not a real range`);
    }
  }
  const empty = decoded.structs.length === 0 && decoded.ds.clients.size === 0;
  // A resend: everything it inserts is in the document already, and everything it deletes is
  // deleted there already. A sync step 2 always carries the sender's whole delete set, so a
  // client answering a resync with nothing new still "deletes" every range ever deleted.
  const nothingNew =
    known !== undefined &&
    decoded.structs.every((s) => s.id.clock + s.length <= Y.getState(known.store, s.id.client)) &&
    [...decoded.ds.clients].every(([client, ranges]) => ranges.every((r) => isDeleted(known, client, r.clock, r.clock + r.len)));
  return { empty, nothingNew, decoded };
}

/** Whether the document holds every struct of `client` from `clock` up to `end`, all deleted. */
function isDeleted(doc: Y.Doc, client: number, clock: number, end: number): boolean {
  const structs = doc.store.clients.get(client);
  if (!structs || Y.getState(doc.store, client) < end) return false;
  for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
    const s = structs[i]!;
    if (s.id.clock >= end) break;
    if (!s.deleted) return false;
  }
  return true;
}
