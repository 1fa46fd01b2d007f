import { describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import type { AuthResult } from "@palimpsest/contracts";
import { useSystem } from "./system.ts";
import { storedEdits, storedUpdates, syncUpdateMessage } from "./stream-helpers.ts";
import * as encoding from "lib0/encoding";
import { connectClient, rawConnect } from "./collab-client.ts";

const ctx = useSystem("sync-resilience", {
  syncReplicas: 2,
  gateways: 2,
  env: {
    SYNC_MAX_MESSAGE_BYTES: String(256 * 1024),
    SYNC_MAX_UPDATE_BYTES: String(4 * 1024 * 1024),
    // Writers type faster than this, so the sync service throttles them throughout (paused, never dropped).
    // About 60 one-letter updates a second (each about 40 bytes, plus the 64 counted per message).
    SYNC_BYTES_PER_SECOND: "6000",
    SYNC_BURST_BYTES: "1024",
    // No periodic resync: a client must never hold an edit the server lacks without one.
    SYNC_RESYNC_MS: "0",
  },
});

/** The document as the stream alone says it is: every stored update replayed into a fresh doc. */
async function replayStream(docId: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  for (const u of await storedUpdates(ctx.nc, ctx.jsm, docId)) Y.applyUpdate(doc, u);
  return doc;
}


async function newDoc(): Promise<{ auth: AuthResult; docId: string }> {
  const { api, auth } = await ctx.anon.newUser();
  const doc = await api.createDoc("Resilience");
  return { auth, docId: doc.id };
}

describe("losing a sync replica", () => {
  // RESILIENCE_ROUNDS=20 repeats it, for a run that looks for a rare loss.
  const rounds = Array.from({ length: Number(process.env["RESILIENCE_ROUNDS"] ?? 1) }, (_, i) => i + 1);
  it.each(rounds)("SIGKILL of a sync process while clients type loses nothing: clients reconnect elsewhere and converge on what the stream holds (round %i)", async () => {
    const { auth, docId } = await newDoc();
    const writers = [ctx.client(docId, auth.accessToken, 0), ctx.client(docId, auth.accessToken, 1), ctx.client(docId, auth.accessToken, 0), ctx.client(docId, auth.accessToken, 1)];
    await vi.waitFor(() => expect(writers.every((w) => w.provider.synced)).toBe(true));

    let typing = true;
    const typed = writers.map(() => 0);
    const loops = writers.map(async (w, i) => {
      while (typing) {
        w.doc.getText("t").insert(w.doc.getText("t").length, String.fromCharCode(97 + i));
        typed[i]!++;
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, docId)).toBeGreaterThan(100), { timeout: 15_000, interval: 100 });
    const victim = ctx.system.byName("sync")[0]!;
    await victim.process.kill();
    await new Promise((r) => setTimeout(r, 300));
    typing = false;
    await Promise.all(loops);

    // Every client ends with every character typed anywhere, and so does the stream.
    const total = typed.reduce((a, b) => a + b, 0);
    await vi.waitFor(
      async () => {
        const state = writers.map((w) => `${w.text().length}/${w.provider.wsconnected ? "up" : "down"}/${w.provider.synced ? "synced" : "-"}`);
        expect(writers.map((w) => w.text().length), `total ${total}, stream ${(await replayStream(docId)).getText("t").length}, clients ${state.join(" ")}`).toEqual(writers.map(() => total));
        const texts = new Set(writers.map((w) => w.text()));
        expect(texts.size).toBe(1);
        expect((await replayStream(docId)).getText("t").toString()).toBe(writers[0]!.text());
      },
      { timeout: 30_000, interval: 250 },
    );
    for (let i = 0; i < writers.length; i++) {
      expect([...writers[0]!.text()].filter((ch) => ch === String.fromCharCode(97 + i))).toHaveLength(typed[i]!);
    }
    await ctx.system.start();
  });
});

describe("protection", () => {
  it("stores a resent update once", async () => {
    const { auth, docId } = await newDoc();
    const local = new Y.Doc();
    local.getText("t").insert(0, "only once");
    const update = Y.encodeStateAsUpdate(local);
    const s = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${docId}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0));
    s.socket.send(syncUpdateMessage(update));
    await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, docId)).toBe(1));
    // A second connection (a reconnect) sends the very same bytes.
    const again = rawConnect(`${ctx.system.gatewayUrl(1).replace(/^http/, "ws")}/collab/${docId}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(again.messages.length).toBeGreaterThan(0));
    again.socket.send(syncUpdateMessage(update));
    s.socket.send(syncUpdateMessage(update));
    const other = new Y.Doc();
    other.getText("t").insert(0, "sentinel");
    again.socket.send(syncUpdateMessage(Y.encodeStateAsUpdate(other)));
    await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, docId)).toBe(2));
    s.socket.close();
    again.socket.close();
  });

  it("refuses a malformed update with an error to that client only, and stores nothing", async () => {
    const { auth, docId } = await newDoc();
    const good = ctx.client(docId, auth.accessToken);
    await vi.waitFor(() => expect(good.provider.synced).toBe(true));
    const bad = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${docId}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(bad.messages.length).toBeGreaterThan(0));
    bad.socket.send(syncUpdateMessage(new Uint8Array([255, 255, 255, 255, 15, 1, 2, 3])));
    const closed = await bad.closed;
    expect(closed.code).toBe(4400);
    const junk = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${docId}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(junk.messages.length).toBeGreaterThan(0));
    junk.socket.send(new Uint8Array([7, 7, 7]));
    expect((await junk.closed).code).toBe(4400);
    expect(await storedEdits(ctx.jsm, docId)).toBe(0);
    // The well-behaved client is unaffected.
    good.doc.getText("t").insert(0, "still fine");
    await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, docId)).toBe(1));
    expect(good.provider.wsconnected).toBe(true);
  });

  it("closes a connection that sends an oversized message other than an update (1009) and stores nothing", async () => {
    const { auth, docId } = await newDoc();
    const s = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${docId}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0));
    // A presence message of 300 KiB, above the 256 KiB an ordinary message may be here.
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(e, new Uint8Array(300 * 1024));
    s.socket.send(encoding.toUint8Array(e));
    expect((await s.closed).code).toBe(1009);
    expect(await storedEdits(ctx.jsm, docId)).toBe(0);
  });

  it("stores a catch-up larger than an ordinary message in parts, when a client comes back from a long time offline", async () => {
    const { auth, docId } = await newDoc();
    // Offline: a few thousand edits, far more than one message may carry (256 KiB here).
    const away = connectClient(ctx.system.gatewayUrl(), docId, auth.accessToken, { connect: false });
    try {
      const text = away.doc.getText("t");
      for (let i = 0; i < 4_000; i++) text.insert(Math.floor(text.length / 2), `paragraph ${i} written on the train, `.repeat(12));
      text.delete(0, 5_000);
      const catchUp = Y.encodeStateAsUpdate(away.doc);
      expect(catchUp.byteLength).toBeGreaterThan(1.5 * 1024 * 1024);

      // Back online: its reply to the server's step 1 carries everything at once
      away.provider.connect();

      // Then it is all stored, in several events, and another client sees it
      await vi.waitFor(async () => expect((await replayStream(docId)).getText("t").toString()).toBe(text.toString()), { timeout: 30_000, interval: 500 });
      expect(await storedEdits(ctx.jsm, docId)).toBeGreaterThan(1);
      const reader = ctx.client(docId, auth.accessToken, 1);
      await vi.waitFor(() => expect(reader.text()).toBe(text.toString()), { timeout: 20_000 });
      expect(away.provider.wsconnected).toBe(true);
    } finally {
      away.destroy();
    }
  });

  it("closes a connection whose catch-up is above the update limit (1009), and stores none of it", async () => {
    const { auth, docId } = await newDoc();
    const s = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${docId}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0));
    const big = new Y.Doc();
    big.getText("t").insert(0, "x".repeat(5 * 1024 * 1024));
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(big));
    s.socket.send(encoding.toUint8Array(e));
    expect((await s.closed).code).toBe(1009);
    expect(await storedEdits(ctx.jsm, docId)).toBe(0);
  });
});
