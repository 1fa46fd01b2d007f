// The web client's y-websocket message peeking, against messages encoded by y-protocols itself.
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import * as syncProtocol from "y-protocols/sync";
import { messageSync } from "y-websocket";
import { SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, peekSyncMessage, syncStep1Message } from "../../web/src/collab/y-websocket-wire.ts";

/** A document with `chars` characters typed into it, so its state vector and updates are not trivial. */
function docWith(chars: number): Y.Doc {
  const doc = new Y.Doc();
  doc.getText("default").insert(0, "x".repeat(chars));
  return doc;
}

/** A whole y-websocket sync message as a server sends it: the message type, then the sync message. */
function serverMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, messageSync);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

describe("peekSyncMessage", () => {
  it("given a sync step 1 after the message type, when peeked, then it yields the type and the state vector", () => {
    const doc = docWith(10);
    const bytes = serverMessage((e) => syncProtocol.writeSyncStep1(e, doc));
    const { type, payload } = peekSyncMessage(bytes, 1);
    expect(type).toBe(SYNC_STEP1);
    expect(payload).toEqual(Y.encodeStateVector(doc));
  });

  it("given a sync step 2 and an update, when peeked, then the payload is the update y-protocols wrote", () => {
    const doc = docWith(300);
    const step2 = peekSyncMessage(serverMessage((e) => syncProtocol.writeSyncStep2(e, doc)), 1);
    expect(step2.type).toBe(SYNC_STEP2);
    expect(step2.payload).toEqual(Y.encodeStateAsUpdate(doc));
    const update = Y.encodeStateAsUpdate(docWith(3));
    const live = peekSyncMessage(serverMessage((e) => syncProtocol.writeUpdate(e, update)), 1);
    expect(live.type).toBe(SYNC_UPDATE);
    expect(live.payload).toEqual(update);
  });

  it("given a message cut short, when peeked, then it throws rather than reading past the end", () => {
    const bytes = serverMessage((e) => syncProtocol.writeSyncStep2(e, docWith(50)));
    expect(() => peekSyncMessage(bytes.subarray(0, bytes.length - 1), 1)).toThrow(RangeError);
    expect(() => peekSyncMessage(new Uint8Array([messageSync, 0x80]), 1)).toThrow(RangeError);
  });

  it("given a message, when peeked, then nothing is consumed: the same bytes still decode in full", () => {
    const doc = docWith(5);
    const bytes = serverMessage((e) => syncProtocol.writeSyncStep1(e, doc));
    peekSyncMessage(bytes, 1);
    const decoder = decoding.createDecoder(bytes);
    expect(decoding.readVarUint(decoder)).toBe(messageSync);
    expect(decoding.readVarUint(decoder)).toBe(SYNC_STEP1);
    expect(decoding.readVarUint8Array(decoder)).toEqual(Y.encodeStateVector(doc));
  });
});

describe("syncStep1Message", () => {
  it("given a state vector of any size, when encoded, then it equals the message y-protocols writes", () => {
    // 1, 200 and 20 000 clients give length prefixes of one, two and three bytes.
    for (const clients of [1, 200, 20_000]) {
      const doc = new Y.Doc();
      const stateVector = new Uint8Array(clients).fill(7);
      const expected = encoding.createEncoder();
      encoding.writeVarUint(expected, messageSync);
      encoding.writeVarUint(expected, SYNC_STEP1);
      encoding.writeVarUint8Array(expected, stateVector);
      expect(syncStep1Message(stateVector)).toEqual(encoding.toUint8Array(expected));
      doc.destroy();
    }
  });

  it("given a document's state vector, when sent and peeked, then the same state vector comes back", () => {
    const stateVector = Y.encodeStateVector(docWith(40));
    expect(peekSyncMessage(syncStep1Message(stateVector), 1)).toEqual({ type: SYNC_STEP1, payload: stateVector });
  });
});
