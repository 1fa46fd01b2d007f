import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, COLLAB_MUX_PATH, COLLAB_MUX_PROTOCOL, CloseCodes, MuxKind, decodeMuxFrame, encodeMuxFrame, type MuxFrame } from "@palimpsest/contracts";
import { createLogger, createMetrics, type TokenVerifier } from "@palimpsest/platform";
import { CollabServer } from "../src/collab-server.ts";
import { loadSyncConfig } from "../src/config.ts";
import type { RoomRegistry } from "../src/room-registry.ts";
import { createSyncMetrics } from "../src/sync-metrics.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A sync replica's collab server whose token checks wait for `release`, then refuse (4401). */
async function replica(env: Record<string, string> = {}) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let verifying = 0;
  const verifier = {
    verify: async () => {
      verifying++;
      await held;
      throw new AppError("TOKEN_INVALID", "not a token");
    },
  } as unknown as TokenVerifier;
  const collab = new CollabServer({
    config: loadSyncConfig(env),
    nc: {} as NatsConnection,
    verifier,
    rooms: {} as RoomRegistry,
    log: createLogger("sync", "silent", "sync-test"),
    metrics: createSyncMetrics(createMetrics("sync")),
  });
  const server = http.createServer();
  server.on("upgrade", (req, socket, head) => collab.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    release();
    await collab.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, release, verifying: () => verifying, collab };
}

/** A gateway's end of a channel, speaking raw frames. */
async function channel(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${COLLAB_MUX_PATH}`, COLLAB_MUX_PROTOCOL);
  const frames: MuxFrame[] = [];
  ws.on("message", (data: Buffer) => frames.push(decodeMuxFrame(new Uint8Array(data))));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    frames,
    closed,
    send: (f: MuxFrame) => ws.send(encodeMuxFrame(f)),
    raw: (bytes: Uint8Array) => ws.send(bytes),
    of: (stream: number) => frames.filter((f) => f.stream === stream).map((f) => f.kind),
  };
}

const open = (stream: number): MuxFrame => ({ kind: MuxKind.open, stream, open: { docId: "doc-1", token: "t", requestId: `req-${stream}`, trace: {} } });

describe("a gateway's channel to a sync replica", () => {
  it("given a new channel, when it opens, then the replica says its limits first", async () => {
    const r = await replica({ SYNC_MAX_PENDING_BYTES: String(1024 * 1024) });
    const c = await channel(r.port);
    await vi.waitFor(() => expect(c.frames[0]).toEqual({ kind: MuxKind.hello, stream: 0, hello: { replicaId: expect.any(String), maxMessageBytes: 16 * 1024 * 1024, window: 1024 * 1024 } }));
  });

  it("given a client whose token is refused, when its stream opens, then the replica takes it, sends the refusal and closes it with 4401, as on a direct connection", async () => {
    const r = await replica();
    const c = await channel(r.port);
    c.send(open(1));
    await vi.waitFor(() => expect(c.of(1)).toEqual([MuxKind.accept]));
    r.release();
    await vi.waitFor(() => expect(c.of(1)).toEqual([MuxKind.accept, MuxKind.data, MuxKind.close]));
    const [, data, close] = c.frames.filter((f) => f.stream === 1);
    // y-protocols' permission-denied message: [messageAuth=2][permissionDenied=0][reason].
    expect(data).toMatchObject({ data: expect.objectContaining({ 0: 2, 1: 0 }) });
    expect(close).toMatchObject({ code: CloseCodes.unauthenticated });
  });

  it("given as many streams being authorized as the replica works on at once, when one more opens, then it is answered busy, and taken once the others are done", async () => {
    const r = await replica({ SYNC_MAX_OPENING: "2" });
    const c = await channel(r.port);
    c.send(open(1));
    c.send(open(2));
    await vi.waitFor(() => expect(r.verifying()).toBe(2));

    c.send(open(3));
    await vi.waitFor(() => expect(c.of(3)).toEqual([MuxKind.busy]));

    r.release();
    await vi.waitFor(() => expect(c.of(2)).toContain(MuxKind.close));
    c.send({ kind: MuxKind.close, stream: 1, code: 1000, reason: "" });
    c.send({ kind: MuxKind.close, stream: 2, code: 1000, reason: "" });
    c.send(open(4));
    await vi.waitFor(() => expect(c.of(4)).toEqual([MuxKind.accept, MuxKind.data, MuxKind.close]));
  });

  it("given a channel that breaks the protocol, when its bad frame arrives, then that channel is dropped and another gateway's channel keeps working", async () => {
    const r = await replica();
    r.release();
    const bad = await channel(r.port);
    const good = await channel(r.port);
    bad.send(open(1));
    await vi.waitFor(() => expect(bad.of(1)).toContain(MuxKind.accept));

    // A frame kind only replicas send, then bytes that are no frame at all.
    bad.send({ kind: MuxKind.credit, stream: 1, bytes: 10 });
    expect(await bad.closed).toBe(1006);

    good.send(open(1));
    await vi.waitFor(() => expect(good.of(1)).toEqual([MuxKind.accept, MuxKind.data, MuxKind.close]));
    good.raw(new Uint8Array([99, 0, 0, 0, 1]));
    expect(await good.closed).toBe(1006);
  });

  it("given a replica shutting down, when a stream opens, then it is answered busy so the gateway tries another replica", async () => {
    // Given a replica draining, held up by a connection still being authorized
    const r = await replica();
    const c = await channel(r.port);
    c.send(open(1));
    await vi.waitFor(() => expect(r.verifying()).toBe(1));
    const closing = r.collab.close();

    // When a stream opens meanwhile
    c.send(open(2));

    // Then it is turned away, and the drain completes once the first is answered
    await vi.waitFor(() => expect(c.of(2)).toEqual([MuxKind.busy]));
    r.release();
    await closing;
    expect(await c.closed).toBe(1006);
  });
});
