// A stream that goes back (a single nats-server restarted without what it had acknowledged, or a
// stream deleted and created again) gives its sequences to new messages. Followers notice, go on
// from the new messages without skipping any, and the sync replica reloads the documents it
// holds, so clients send again what the stream lost.

import { afterAll, describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import { jetstream, type StreamConfig } from "@nats-io/jetstream";
import { Streams, type EditView, type Page, type VersionView } from "@palimpsest/contracts";
import { createLogger, followLive } from "@palimpsest/platform";
import { useSystem } from "./system.ts";
import { connectClient, type CollabClient } from "./collab-client.ts";
import { storedEdits, storedUpdates } from "./stream-helpers.ts";

const ctx = useSystem("stream-rewind");
const opened: CollabClient[] = [];
afterAll(() => opened.forEach((c) => c.destroy()));

/** Deletes a stream and creates it again as it was: what it held is gone and its sequences start over. */
async function reset(stream: string): Promise<void> {
  const { config } = await ctx.jsm.streams.info(stream);
  await ctx.jsm.streams.delete(stream);
  await ctx.jsm.streams.add(config as StreamConfig);
}

async function storedText(docId: string): Promise<string> {
  const doc = new Y.Doc();
  for (const u of await storedUpdates(ctx.nc, ctx.jsm, docId)) Y.applyUpdate(doc, u);
  return doc.getText("t").toString();
}

describe("a stream that goes back", () => {
  it("given a live follower, when its stream is created again and new messages take the old sequences, then it hands on every new message and says it rewound", async () => {
    const stream = `REWIND_${Date.now()}`;
    await ctx.jsm.streams.add({ name: stream, subjects: [`${stream}.>`], allow_direct: true });
    const js = jetstream(ctx.nc);
    const seen: string[] = [];
    const rewinds: number[] = [];
    const follower = await followLive({
      js,
      jsm: ctx.jsm,
      stream,
      filterSubject: `${stream}.>`,
      log: createLogger("test-follower", "silent", "test"),
      onMessage: (m) => void seen.push(new TextDecoder().decode(m.data)),
      onError: (err) => {
        throw err;
      },
      onRewind: (resumeAfter) => void rewinds.push(resumeAfter),
      stallMs: 400,
      verifyMs: 200,
    });
    try {
      for (let i = 0; i < 5; i++) await js.publish(`${stream}.a`, `old ${i}`);
      await vi.waitFor(() => expect(seen).toHaveLength(5), { timeout: 5_000 });

      // When the stream starts over and takes three new messages (sequences 1 to 3)
      await reset(stream);
      for (let i = 0; i < 3; i++) await js.publish(`${stream}.a`, `new ${i}`);

      // Then the follower hands them on, in order, after saying where it goes on from
      await vi.waitFor(() => expect(seen.slice(5)).toEqual(["new 0", "new 1", "new 2"]), { timeout: 10_000 });
      expect(rewinds).toEqual([0]);
      // And it follows on normally
      await js.publish(`${stream}.a`, "new 3");
      await vi.waitFor(() => expect(seen.at(-1)).toBe("new 3"), { timeout: 5_000 });
      expect(seen).toHaveLength(9);
    } finally {
      follower.stop();
      await ctx.jsm.streams.delete(stream);
    }
  });

  it("given a client whose edits the EDITS stream lost after storing them, then the sync replica reloads the document, the client sends them again, new edits reach it, and history lists what the stream holds", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const doc = await api.createDoc("Rewound");
    const writer = ctx.client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(writer.provider.synced).toBe(true), { timeout: 10_000 });
    // Two edits, which come back as one when the writer sends them again: the lost versions differ from the new ones.
    writer.doc.getText("t").insert(0, "typed before");
    await vi.waitFor(async () => expect(await storedText(doc.id)).toBe("typed before"), { timeout: 10_000 });
    writer.doc.getText("t").insert(12, " the loss");
    await vi.waitFor(async () => expect(await storedText(doc.id)).toBe("typed before the loss"), { timeout: 10_000 });
    await vi.waitFor(async () => expect((await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?limit=1000`)).body.items).toHaveLength(2), { timeout: 10_000 });

    // When the stream loses everything it held
    await reset(Streams.edits);

    // Then the writer, told to reconnect to a reloaded room, sends its text again
    await vi.waitFor(async () => expect(await storedText(doc.id)).toBe("typed before the loss"), { timeout: 20_000, interval: 250 });
    await vi.waitFor(() => expect(writer.provider.synced).toBe(true), { timeout: 10_000 });

    // And another client's edits, stored at sequences the lost edits had, reach the writer
    const other = connectClient(ctx.system.gatewayUrl(), doc.id, auth.accessToken);
    opened.push(other);
    await vi.waitFor(() => expect(other.text()).toBe("typed before the loss"), { timeout: 10_000 });
    other.doc.getText("t").insert(0, "Then: ");
    await vi.waitFor(() => expect(writer.text()).toBe("Then: typed before the loss"), { timeout: 10_000 });
    await vi.waitFor(async () => expect(await storedText(doc.id)).toBe("Then: typed before the loss"), { timeout: 10_000 });

    // And history, rebuilt from what the stream holds, lists those edits and no lost one
    await vi.waitFor(async () => {
      const edits = (await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?limit=1000`)).body.items;
      expect(edits.map((e) => e.seq)).toEqual(Array.from({ length: await storedEdits(ctx.jsm, doc.id) }, (_, i) => i + 1));
      expect((await api.get<VersionView>(`/api/docs/${doc.id}/versions/${edits.length}`)).body.text).toBe("Then: typed before the loss");
    }, { timeout: 40_000, interval: 500 });
  });
});
