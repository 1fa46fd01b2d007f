import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { UpdateBatcher } from "../src/update-batcher.ts";
import { inspectUpdate } from "../src/protocol.ts";

function keystrokes(n: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on("update", (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < n; i++) doc.getText("t").insert(i, String(i % 10));
  return { doc, updates };
}

describe("update batcher", () => {
  it("keeps one append in flight and merges what arrives meanwhile, in order", async () => {
    const appended: { update: Uint8Array; count: number }[] = [];
    let release: () => void = () => undefined;
    const batcher = new UpdateBatcher(
      (update, count) =>
        new Promise<void>((resolve) => {
          appended.push({ update: update as Uint8Array, count });
          release = resolve;
        }),
    );
    const { doc, updates } = keystrokes(50);
    const settled = updates.map((u) => batcher.push(u));
    expect(appended).toHaveLength(1);
    expect(appended[0]!.count).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(appended).toHaveLength(2);
    expect(appended[1]!.count).toBe(49);
    release();
    await Promise.all(settled);
    const replica = new Y.Doc();
    for (const a of appended) Y.applyUpdate(replica, a.update);
    expect(replica.getText("t").toString()).toBe(doc.getText("t").toString());
  });

  it("fails every queued update when an append fails, so nothing is stored out of order", async () => {
    let calls = 0;
    const batcher = new UpdateBatcher(async () => {
      calls++;
      throw new Error("store down");
    });
    const { updates } = keystrokes(3);
    const results = await Promise.allSettled(updates.map((u) => batcher.push(u)));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    expect(calls).toBe(1);
  });

  it("given an append that failed, when the client sends more before it is disconnected, then none of it is stored ahead of what failed", async () => {
    const appended: number[] = [];
    let fail = true;
    const batcher = new UpdateBatcher(async (_u, n) => {
      if (fail) throw new Error("store down");
      appended.push(n);
    });
    const { updates } = keystrokes(3);
    await expect(batcher.push(updates[0]!)).rejects.toThrow("store down");
    // The store is back, and the client's next keystrokes (built on the lost one) arrive
    fail = false;
    await expect(batcher.push(updates[1]!)).rejects.toThrow("store down");
    await expect(batcher.push(updates[2]!)).rejects.toThrow("store down");
    expect(appended).toEqual([]);
  });

  it("given an update in parts between single updates, then the parts are one write of their own, in order", async () => {
    const writes: (Uint8Array | readonly Uint8Array[])[] = [];
    const batcher = new UpdateBatcher(async (update) => void writes.push(update));
    const { updates } = keystrokes(4);
    await Promise.all([batcher.push(updates[0]!), batcher.push([updates[1]!, updates[2]!]), batcher.push(updates[3]!)]);
    expect(writes.map((w) => (Array.isArray(w) ? `parts:${w.length}` : "one"))).toEqual(["one", "parts:2", "one"]);
  });

  it("recognises a resend: nothing it carries is new to the document", () => {
    const { doc, updates } = keystrokes(5);
    expect(inspectUpdate(updates[2]!, doc).nothingNew).toBe(true);
    const other = new Y.Doc();
    other.getText("t").insert(0, "new");
    expect(inspectUpdate(Y.encodeStateAsUpdate(other), doc).nothingNew).toBe(false);
  });
});
