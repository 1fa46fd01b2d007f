import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { MuxKind } from "@palimpsest/contracts";
import { createLogger } from "@palimpsest/platform";
import { scriptedReplica } from "./scripted-replica.ts";
import { STREAMS_PER_CHANNEL, SyncChannels, type StreamEvents, type SyncStream } from "../src/sync-channels.ts";

const log = createLogger("gateway", "silent", "gateway-test");
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function pool(): SyncChannels {
  const channels = new SyncChannels(log);
  cleanups.push(() => channels.close());
  return channels;
}

const open = (n: number) => ({ docId: "doc-1", token: "t", requestId: `req-${n}`, trace: {} });

function recorder(): StreamEvents & { seen: unknown[] } {
  const seen: unknown[] = [];
  return {
    seen,
    data: (m) => seen.push(["data", [...m]]),
    close: (code, reason) => seen.push(["close", code, reason]),
    credit: (bytes) => seen.push(["credit", bytes]),
    lost: () => seen.push(["lost"]),
  };
}

describe("the gateway's channels to sync replicas", () => {
  it(`given more clients than one channel carries (${STREAMS_PER_CHANNEL}), when they open, then a second channel is opened and no more`, async () => {
    const replica = await scriptedReplica(cleanups);
    const channels = pool();
    const results = await Promise.all(Array.from({ length: STREAMS_PER_CHANNEL + 10 }, (_, i) => channels.open(replica.url, open(i))));
    expect(results.every((r) => typeof r === "object")).toBe(true);
    expect(replica.channels).toHaveLength(2);
    expect(replica.channels.map((c) => c.frames.length).sort((a, b) => a - b)).toEqual([10, STREAMS_PER_CHANNEL]);

    // When every client has gone, one channel stays for the next, and the other is closed.
    for (const r of results) (r as { stream: SyncStream }).stream.end(1000);
    await vi.waitFor(() => expect(replica.channels.map((c) => c.ws.readyState).sort()).toEqual([WebSocket.OPEN, WebSocket.CLOSED]));
  });

  it("given a replica that is busy, or silent, when a client opens, then the open says so (the gateway tries the next replica)", async () => {
    let n = 0;
    const replica = await scriptedReplica(cleanups, () => (n++ === 0 ? "busy" : "silent"));
    const channels = pool();
    expect(await channels.open(replica.url, open(1))).toBe("busy");
    expect(await channels.open(replica.url, open(2))).toBe("failed");
    // The silent replica is told that the gateway gave up on the stream, in case its accept comes late.
    await vi.waitFor(() => expect(replica.channels[0]!.frames.at(-1)).toMatchObject({ kind: MuxKind.close, stream: 2 }));
  });

  it("given an open stream, when the replica sends data and closes it, then the client gets both in order, and the stream ends when the gateway says the client is gone", async () => {
    const replica = await scriptedReplica(cleanups);
    const channels = pool();
    const result = await channels.open(replica.url, open(1));
    const stream = (result as { stream: SyncStream }).stream;
    expect(stream.hello).toEqual({ replicaId: "r1", maxMessageBytes: 1 << 20, window: 1 << 16 });
    const id = replica.channels[0]!.frames[0]!.stream;
    // Sent before the gateway listens (the client's handshake is still being answered): kept for it.
    replica.send(0, { kind: MuxKind.data, stream: id, data: new Uint8Array([1, 2]) });
    replica.send(0, { kind: MuxKind.credit, stream: id, bytes: 5 });
    replica.send(0, { kind: MuxKind.close, stream: id, code: 1012, reason: "server restarting" });
    await vi.waitFor(() => expect(replica.channels[0]!.ws.bufferedAmount).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const events = recorder();
    stream.listen(events);
    expect(events.seen).toEqual([["data", [1, 2]], ["credit", 5], ["close", 1012, "server restarting"]]);

    // The client's data until its close still goes to the replica; then the stream ends with its code.
    stream.send(new Uint8Array([9]));
    stream.end(1000);
    stream.end(1000);
    await vi.waitFor(() => expect(replica.channels[0]!.frames.slice(1)).toEqual([
      { kind: MuxKind.data, stream: id, data: new Uint8Array([9]) },
      { kind: MuxKind.close, stream: id, code: 1000, reason: "" },
    ]));
  });

  it("given open streams, when the replica's channel is lost, then every stream hears it, and the next client gets a new channel", async () => {
    const replica = await scriptedReplica(cleanups);
    const channels = pool();
    const streams = await Promise.all([1, 2].map(async (i) => ((await channels.open(replica.url, open(i))) as { stream: SyncStream }).stream));
    const events = streams.map((s) => {
      const e = recorder();
      s.listen(e);
      return e;
    });
    replica.channels[0]!.ws.terminate();
    await vi.waitFor(() => expect(events.map((e) => e.seen)).toEqual([[["lost"]], [["lost"]]]));
    expect(typeof (await channels.open(replica.url, open(3)))).toBe("object");
    expect(replica.channels).toHaveLength(2);
  });
});
