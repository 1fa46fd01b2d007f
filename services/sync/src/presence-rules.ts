import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import { DOCUMENT_CHANGED_FIELD, MAX_PRESENCE_NAME, SERVER_PRESENCE_CLIENT_ID, presenceColorOf } from "@palimpsest/contracts";

/**
 * Bounds on what one connection may say about presence. A y-websocket client announces one
 * client id (its Y.Doc's) with a state of a few hundred bytes (who, cursor, pointer); these leave
 * ample room and keep one message from being fanned out as megabytes to every peer.
 */
export const PresenceLimits = {
  /** Largest awareness message accepted from a client. */
  maxMessageBytes: 16 * 1024,
  /** Client ids one connection may announce: its document's, plus slack for a client that recreates its doc. */
  maxClientsPerConnection: 4,
} as const;

/** One entry of a y-protocols awareness update: a client's state (null: the client left) at a clock. */
export interface PresenceEntry {
  clientId: number;
  clock: number;
  state: Record<string, unknown> | null;
}

/** Who a connection is, from its access token: the only identity its presence may show. */
export interface PresenceIdentity {
  userId: string;
  name: string;
}

export class PresenceRefused extends Error {
  override name = "PresenceRefused";
}

/** Reads an awareness update (the y-protocols layout); throws PresenceRefused on anything malformed. */
export function decodePresence(update: Uint8Array, maxEntries: number = PresenceLimits.maxClientsPerConnection): PresenceEntry[] {
  try {
    const d = decoding.createDecoder(update);
    const count = decoding.readVarUint(d);
    if (count > maxEntries) throw new PresenceRefused(`${count} client ids in one message`);
    const entries: PresenceEntry[] = [];
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(d);
      const clock = decoding.readVarUint(d);
      const state: unknown = JSON.parse(decoding.readVarString(d));
      if (state !== null && (typeof state !== "object" || Array.isArray(state))) throw new PresenceRefused("a presence state must be an object");
      entries.push({ clientId, clock, state: state as Record<string, unknown> | null });
    }
    if (decoding.hasContent(d)) throw new PresenceRefused("trailing bytes after the presence entries");
    return entries;
  } catch (err) {
    throw err instanceof PresenceRefused ? err : new PresenceRefused("malformed presence message");
  }
}

export function encodePresence(entries: readonly PresenceEntry[]): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, entries.length);
  for (const { clientId, clock, state } of entries) {
    encoding.writeVarUint(e, clientId);
    encoding.writeVarUint(e, clock);
    encoding.writeVarString(e, JSON.stringify(state));
  }
  return encoding.toUint8Array(e);
}

/**
 * The state as relayed to everyone: `user` says who the token says, with the colour the client
 * chose only when it is a plain hex colour; the rest (cursor, pointer) passes as data, except the
 * server's own notice field, which only the server may say (a viewer could otherwise tell every
 * page that the owner restored a version).
 */
export function withIdentity(state: Record<string, unknown>, who: PresenceIdentity): Record<string, unknown> {
  const claimed = state["user"];
  const color = typeof claimed === "object" && claimed !== null ? (claimed as Record<string, unknown>)["color"] : undefined;
  const { [DOCUMENT_CHANGED_FIELD]: _serverOnly, ...said } = state;
  return { ...said, user: { id: who.userId, name: who.name.slice(0, MAX_PRESENCE_NAME), color: presenceColorOf(color) } };
}

/** A Y.Doc's client id is a uint32; anything larger is not a client's (the server's own is 2^32). */
const MAX_CLIENT_ID = 0xffffffff;

/** The user a relayed state belongs to (set by withIdentity), if any. */
export function userOfState(state: unknown): string | undefined {
  if (typeof state !== "object" || state === null) return undefined;
  const user = (state as Record<string, unknown>)["user"];
  const id = typeof user === "object" && user !== null ? (user as Record<string, unknown>)["id"] : undefined;
  return typeof id === "string" ? id : undefined;
}

/**
 * Checks a connection's awareness message and returns it as it may be relayed, or null when it
 * only echoes what the client was sent (y-websocket clients send back every change they receive:
 * in a document with n people, each renewal comes back n-1 times). An entry for someone else's
 * client id at a clock the room already has changes nothing (y-protocols ignores it), so it is
 * dropped before any other check, at no cost.
 * A client id is bound to the connection that first announced it: another connection may only
 * take it over when it belongs to the same user (a reconnecting tab whose old socket has not
 * closed yet). Throws PresenceRefused when the message is too large or speaks for anyone else.
 */
export function admitPresence(
  update: Uint8Array,
  who: PresenceIdentity & { connectionId: string },
  ids: {
    /** Client ids this connection announced so far. */
    own: ReadonlySet<number>;
    /** The user behind a client id already present (from this replica or another), if any. */
    userOf(clientId: number): string | undefined;
    /** What the room holds for a client id: its clock, and whether it has a state (not removed). */
    known(clientId: number): { clock: number; present: boolean } | undefined;
  },
): Uint8Array | null {
  if (update.byteLength > PresenceLimits.maxMessageBytes) throw new PresenceRefused(`presence message of ${update.byteLength} bytes`);
  const isEcho = (e: PresenceEntry): boolean => {
    if (ids.own.has(e.clientId)) return false;
    const known = ids.known(e.clientId);
    // A removal at the current clock of a state still present would apply: that one is checked.
    return known !== undefined && (e.clock < known.clock || (e.clock === known.clock && (e.state !== null || !known.present)));
  };
  // The server's own entry comes back from every y-websocket client too: dropped.
  const entries = decodePresence(update).filter((e) => e.clientId !== SERVER_PRESENCE_CLIENT_ID && e.clientId <= MAX_CLIENT_ID && !isEcho(e));
  if (entries.length === 0) return null;
  const fresh = new Set(entries.map((e) => e.clientId).filter((c) => !ids.own.has(c)));
  if (ids.own.size + fresh.size > PresenceLimits.maxClientsPerConnection) throw new PresenceRefused("too many client ids for one connection");
  for (const c of fresh) {
    const holder = ids.userOf(c);
    if (holder !== undefined && holder !== who.userId) throw new PresenceRefused(`client id ${c} belongs to another user`);
  }
  return encodePresence(entries.map((e) => ({ ...e, state: e.state === null ? null : withIdentity(e.state, who) })));
}

/**
 * Another replica's presence update without the entries for client ids bound to connections
 * here (a client there cannot speak for one here); null when nothing is left.
 */
export function withoutClients(update: Uint8Array, isLocal: (clientId: number) => boolean): Uint8Array | null {
  const entries = decodePresence(update, Number.MAX_SAFE_INTEGER);
  const kept = entries.filter((e) => !isLocal(e.clientId));
  if (kept.length === 0) return null;
  return kept.length === entries.length ? update : encodePresence(kept);
}
