import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { decodeMessage, encodeSyncStep1, encodeUpdate, inspectUpdate } from "../src/protocol.ts";

describe("y-websocket protocol decoding", () => {
  it("reads what a y-websocket client sends", () => {
    const doc = new Y.Doc();
    doc.getText("t").insert(0, "hi");
    const step1 = decodeMessage(encodeSyncStep1(doc));
    expect(step1.type).toBe("sync-step1");
    const update = Y.encodeStateAsUpdate(doc);
    const msg = decodeMessage(encodeUpdate(update));
    expect(msg).toEqual({ type: "sync-update", update });
    expect(inspectUpdate(update).empty).toBe(false);
    expect(inspectUpdate(Y.encodeStateAsUpdate(new Y.Doc())).empty).toBe(true);
  });

  it("refuses malformed messages and updates", () => {
    expect(() => decodeMessage(new Uint8Array([]))).toThrow();
    expect(() => decodeMessage(new Uint8Array([9]))).toThrow();
    expect(() => decodeMessage(new Uint8Array([0, 7, 1, 1]))).toThrow();
    expect(() => decodeMessage(new Uint8Array([0, 2, 200]))).toThrow();
    for (const garbage of [[1, 2, 3], [255, 255, 255, 255, 15], [5, 1, 2, 3, 4, 5, 6, 7, 8]]) {
      expect(() => inspectUpdate(new Uint8Array(garbage)), JSON.stringify(garbage)).toThrow();
    }
  });

  it("refuses an update whose deleted ranges no reader could replay", () => {
    // Found by fuzzing: it decodes, but a fresh Y.Doc applying it throws while re-encoding its
    // pending deletions, so once stored the document could not be replayed.
    const hostile = Buffer.from("AgPlA5cE55gF/////////w+Jj8zWAuIDBqGAB5HL8qgH/////////w/n/////////w//////B/////8PgICAgBAAAST/////D6O3Af////////8PCCMC5TMVeblkAYe8hi0Cq8u6/AUA/////w+JAw==", "base64");
    expect(() => Y.applyUpdate(new Y.Doc(), hostile)).toThrow();
    expect(() => inspectUpdate(hostile)).toThrow(/not a real range/);
    const doc = new Y.Doc();
    doc.getText("t").insert(0, "abc");
    const sv = Y.encodeStateVector(doc);
    doc.getText("t").delete(0, 1);
    expect(inspectUpdate(Y.encodeStateAsUpdate(doc, sv)).empty).toBe(false);
  });
});
