import { describe, expect, it } from "vitest";
import { DOCUMENT_CHANGED_FIELD, SERVER_PRESENCE_CLIENT_ID } from "@palimpsest/contracts";
import { PresenceLimits, PresenceRefused, admitPresence, decodePresence, encodePresence, withoutClients } from "../src/presence-rules.ts";

const mallory = { userId: "u-mallory", name: "Mallory", connectionId: "c-1" };
const none = { own: new Set<number>(), userOf: () => undefined, known: () => undefined };

describe("admitPresence", () => {
  it("rewrites the user to the token's identity and keeps only a hex colour", () => {
    const update = encodePresence([{ clientId: 7, clock: 1, state: { user: { id: "u-ann", name: "<b>Ann</b>", color: "red;background:url(x)" }, cursor: { a: 1 } } }]);
    const [entry] = decodePresence(admitPresence(update, mallory, none)!);
    expect(entry!.state).toEqual({ user: { id: "u-mallory", name: "Mallory", color: "#667085" }, cursor: { a: 1 } });
    const ok = encodePresence([{ clientId: 7, clock: 2, state: { user: { color: "#a1B2c3" } } }]);
    expect(decodePresence(admitPresence(ok, mallory, none)!)[0]!.state).toEqual({ user: { id: "u-mallory", name: "Mallory", color: "#a1B2c3" } });
  });

  it("drops the server's own entry that a client sends back, so no connection takes it over or speaks under it", () => {
    const notice = { clientId: SERVER_PRESENCE_CLIENT_ID, clock: 1_765_000_000_000, state: { [DOCUMENT_CHANGED_FIELD]: { what: "renamed", at: 1 } } };
    expect(admitPresence(encodePresence([notice]), mallory, none)).toBeNull();
    expect(admitPresence(encodePresence([{ ...notice, state: null }]), mallory, none)).toBeNull();
    const mixed = admitPresence(encodePresence([notice, { clientId: 7, clock: 3, state: { cursor: 1 } }]), mallory, none);
    expect(decodePresence(mixed!).map((e) => e.clientId)).toEqual([7]);
    // Nor any other id past a Y.Doc's uint32.
    expect(admitPresence(encodePresence([{ ...notice, clientId: 2 ** 32 + 5 }]), mallory, none)).toBeNull();
  });

  it("strips the server's notice field from a client's own state, so no one can claim a restore or a rename", () => {
    const forged = encodePresence([{ clientId: 7, clock: 1, state: { cursor: 1, [DOCUMENT_CHANGED_FIELD]: { what: "restored", at: 9e15, by: "u-owner" } } }]);
    expect(decodePresence(admitPresence(forged, mallory, none)!)[0]!.state).toEqual({ cursor: 1, user: { id: "u-mallory", name: "Mallory", color: "#667085" } });
  });

  it("refuses a client id held by another user, for a state or a removal", () => {
    const ids = { own: new Set<number>(), userOf: (c: number) => (c === 7 ? "u-ann" : undefined), known: () => undefined };
    expect(() => admitPresence(encodePresence([{ clientId: 7, clock: 5, state: {} }]), mallory, ids)).toThrow(PresenceRefused);
    expect(() => admitPresence(encodePresence([{ clientId: 7, clock: 5, state: null }]), mallory, ids)).toThrow(PresenceRefused);
    // The same user's other connection may take it over (a tab reconnecting).
    expect(() => admitPresence(encodePresence([{ clientId: 7, clock: 5, state: null }]), { ...mallory, userId: "u-ann" }, ids)).not.toThrow();
  });

  it("given a client sending back another client's state it was sent, when it arrives, then it is dropped without a refusal; a newer state or a removal of a present one is still checked", () => {
    // Client 7 is Ann's, at clock 5 with a state; Mallory's client echoes what it received.
    const ids = { own: new Set<number>(), userOf: (c: number) => (c === 7 ? "u-ann" : undefined), known: (c: number) => (c === 7 ? { clock: 5, present: true } : undefined) };
    expect(admitPresence(encodePresence([{ clientId: 7, clock: 5, state: { cursor: 1 } }]), mallory, ids)).toBeNull();
    expect(admitPresence(encodePresence([{ clientId: 7, clock: 4, state: null }]), mallory, ids)).toBeNull();
    expect(() => admitPresence(encodePresence([{ clientId: 7, clock: 6, state: { cursor: 1 } }]), mallory, ids)).toThrow(PresenceRefused);
    expect(() => admitPresence(encodePresence([{ clientId: 7, clock: 5, state: null }]), mallory, ids)).toThrow(PresenceRefused);
    // Once Ann's client left (removed at clock 6), the echo of the removal is dropped too.
    const gone = { ...ids, known: (c: number) => (c === 7 ? { clock: 6, present: false } : undefined) };
    expect(admitPresence(encodePresence([{ clientId: 7, clock: 6, state: null }]), mallory, gone)).toBeNull();
    // The client's own entry at an old clock is left to y-protocols, as before.
    const own = { ...ids, own: new Set([9]), known: () => ({ clock: 5, present: true }) };
    expect(admitPresence(encodePresence([{ clientId: 9, clock: 5, state: {} }]), mallory, own)).not.toBeNull();
  });

  it("refuses oversized messages, too many client ids and malformed states", () => {
    const big = encodePresence([{ clientId: 1, clock: 1, state: { blob: "x".repeat(PresenceLimits.maxMessageBytes) } }]);
    expect(() => admitPresence(big, mallory, none)).toThrow(PresenceRefused);
    const many = encodePresence([1, 2, 3, 4, 5].map((clientId) => ({ clientId, clock: 1, state: {} })));
    expect(() => admitPresence(many, mallory, none)).toThrow(PresenceRefused);
    const fourMore = encodePresence([11, 12].map((clientId) => ({ clientId, clock: 1, state: {} })));
    expect(() => admitPresence(fourMore, mallory, { own: new Set([1, 2, 3]), userOf: () => undefined, known: () => undefined })).toThrow(PresenceRefused);
    expect(() => admitPresence(new Uint8Array([1, 7, 1, 3, 0x5b, 0x31, 0x5d]), mallory, none)).toThrow(PresenceRefused);
    expect(() => admitPresence(new Uint8Array([9]), mallory, none)).toThrow(PresenceRefused);
  });
});

describe("withoutClients", () => {
  it("drops the entries of client ids bound here", () => {
    const update = encodePresence([{ clientId: 1, clock: 1, state: { a: 1 } }, { clientId: 2, clock: 1, state: { b: 2 } }]);
    expect(decodePresence(withoutClients(update, (c) => c === 1)!, 10).map((e) => e.clientId)).toEqual([2]);
    expect(withoutClients(update, () => true)).toBeNull();
    expect(withoutClients(update, () => false)).toBe(update);
  });
});
