// A sync replica follows the EDITS stream through one consumer of its own, whatever the number
// of documents open on it; a document that opens reads its past once, and the two meet without
// losing or repeating an edit.

import { afterAll, describe, expect, it, vi } from "vitest";
import { Streams } from "@palimpsest/contracts";
import { useSystem } from "./system.ts";
import { connectClient, type CollabClient } from "./collab-client.ts";

const ctx = useSystem("edit-feed", { syncReplicas: 2 });
const opened: CollabClient[] = [];
afterAll(() => opened.forEach((c) => c.destroy()));

const editsConsumers = async () => (await ctx.jsm.streams.info(Streams.edits)).state.consumer_count;

async function synced(c: CollabClient): Promise<void> {
  await vi.waitFor(() => expect(c.provider.synced).toBe(true), { timeout: 10_000 });
}

describe("the sync replica's edit feed", () => {
  it("given twenty documents opened at once, then nats-server holds no more consumers on EDITS than before", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const docs = await Promise.all(Array.from({ length: 20 }, (_, i) => api.createDoc(`Feed ${i}`)));
    const before = await editsConsumers();
    const clients = docs.map((d) => ctx.client(d.id, auth.accessToken));
    await Promise.all(clients.map(synced));
    // Every document got an edit, and each came back through the replica's one feed.
    clients.forEach((c, i) => c.doc.getText("t").insert(0, `edit ${i}`));
    const watchers = docs.map((d) => ctx.client(d.id, auth.accessToken));
    await Promise.all(watchers.map(synced));
    await vi.waitFor(() => watchers.forEach((w, i) => expect(w.text()).toBe(`edit ${i}`)), { timeout: 10_000 });
    // The reads of each document's past delete their consumers as soon as they are done.
    await vi.waitFor(async () => expect(await editsConsumers()).toBeLessThanOrEqual(before), { timeout: 5_000 });
    for (const c of [...clients, ...watchers]) c.destroy();
  });

  it("given a document with a long past and no snapshot, when another replica opens it cold while someone types, then the newcomer gets every edit once, in order", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const doc = await api.createDoc("Long past");
    const replica = (i: number) => `http://127.0.0.1:${ctx.system.byName("sync")[i]!.port}`;
    const writer = connectClient(replica(0), doc.id, auth.accessToken);
    opened.push(writer);
    await synced(writer);
    const text = writer.doc.getText("t");
    // Fifty separate appends: more than a document's past is read by direct gets.
    for (let i = 0; i < 50; i++) {
      text.insert(text.length, `${i % 10}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    // The writer goes on typing while the other replica loads the document for a reader.
    let typing = true;
    const typed = (async () => {
      for (let i = 0; typing && i < 400; i++) {
        text.insert(text.length, "x");
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const reader = connectClient(replica(1), doc.id, auth.accessToken);
    opened.push(reader);
    await synced(reader);
    await new Promise((r) => setTimeout(r, 200));
    typing = false;
    await typed;
    await vi.waitFor(() => expect(reader.text()).toBe(text.toString()), { timeout: 10_000 });
    expect(reader.text()).toMatch(/^(0123456789){5}x+$/);
  });
});
