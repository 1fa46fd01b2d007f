import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import { TestApi, type RunningSystem } from "@palimpsest/devkit";
import { startTestSystem } from "./system.ts";
import { syncUpdateMessage } from "./stream-helpers.ts";
import { connectClient, rawConnect, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
let anon: TestApi;
const clients: CollabClient[] = [];
const RATE = 16 * 1024;
const BURST = 4 * 1024;

beforeAll(async () => {
  system = await startTestSystem("sync-protection", {
    readyTimeoutMs: 120_000,
    env: {
      SYNC_MAX_MESSAGE_BYTES: String(4 * 1024 * 1024),
      SYNC_BYTES_PER_SECOND: String(RATE),
      SYNC_BURST_BYTES: String(BURST),
      // Above the 1 MiB messages the reader below gets, so what trips it is a client that stopped
      // reading, not one message the kernel did not take at once.
      COLLAB_MAX_BUFFERED_BYTES: String(4 * 1024 * 1024),
      SYNC_MAX_BUFFERED_BYTES: String(4 * 1024 * 1024),
    },
  });
  anon = new TestApi(system.gatewayUrl());
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await system?.stop();
});


async function metric(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  const line = (await res.text()).split("\n").find((l) => l.startsWith(name));
  // A metric that is not there is a wrong port or name, never a zero.
  expect(line, name).toBeDefined();
  return Number(line!.split(" ").pop());
}

describe("a client that sends too fast", () => {
  it("is slowed to its budget, and nothing it sent is lost", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Flood");
    const reader = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(reader);
    await vi.waitFor(() => expect(reader.provider.synced).toBe(true));
    const flood = rawConnect(`${system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(flood.messages.length).toBeGreaterThan(0));

    const local = new Y.Doc();
    const updates: Uint8Array[] = [];
    local.on("update", (u: Uint8Array) => updates.push(u));
    const N = 60;
    for (let i = 0; i < N; i++) local.getText("t").insert(0, String.fromCharCode(65 + (i % 26)).repeat(1024));
    const messages = updates.map(syncUpdateMessage);
    const bytes = messages.reduce((n, m) => n + m.byteLength, 0);
    const started = Date.now();
    for (const m of messages) flood.socket.send(m);
    await vi.waitFor(() => expect(reader.text()).toBe(local.getText("t").toString()), { timeout: 20_000 });
    // About 60 KiB at 16 KiB/s with a burst of 4 KiB cannot take much less than (bytes - burst) / rate.
    expect(Date.now() - started).toBeGreaterThan(((bytes - BURST) / RATE) * 1000 * 0.8);
    expect(await metric(system.byName("sync")[0]!.metricsPort, "sync_throttled_total")).toBeGreaterThan(0);
    flood.socket.close();
  });
});

describe("a client that does not read", () => {
  it("is disconnected once its buffer passes the bound, without stalling anyone else", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Slow reader");
    const writer = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    const reader = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(writer, reader);
    // Two document loads on a machine other test runs share: more than waitFor's default second.
    await vi.waitFor(() => expect(writer.provider.synced && reader.provider.synced).toBe(true), { timeout: 10_000 });
    const slow = rawConnect(`${system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(slow.messages.length).toBeGreaterThan(0), { timeout: 10_000 });
    // Stop reading: the kernel buffers fill, then the server's send buffer grows.
    slow.socket.pause();
    const gateway = system.byName("gateway")[0]!.metricsPort;
    expect(await metric(gateway, "gateway_collab_connections")).toBe(3);
    // A paused socket cannot see its own close, so the server says whether it cut the client off.
    let slowClosed = false;

    // Past the kernel's socket buffers first: on this machine TCP receive buffers autotune up to 32 MiB.
    // Each chunk comes through a fresh connection: this system's byte budget (16 KiB/s, for the
    // flood test above) would hold one connection's second 1 MiB update back for a minute.
    const chunk = "x".repeat(1024 * 1024);
    const local = new Y.Doc();
    Y.applyUpdate(local, Y.encodeStateAsUpdate(writer.doc));
    const url = `${system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${auth.accessToken}`;
    for (let i = 0; i < 60 && !slowClosed; i++) {
      const sv = Y.encodeStateVector(local);
      local.getText("t").insert(local.getText("t").length, chunk);
      const sender = rawConnect(url);
      await vi.waitFor(() => expect(sender.messages.length).toBeGreaterThan(0), { timeout: 10_000 });
      sender.socket.send(syncUpdateMessage(Y.encodeStateAsUpdate(local, sv)));
      await vi.waitFor(() => expect(reader.doc.getText("t").length).toBe(local.getText("t").length), { timeout: 10_000 });
      sender.socket.close();
      await sender.closed;
      slowClosed = (await metric(gateway, "gateway_collab_slow_disconnects_total")) > 0;
    }
    // The server cut the slow client off; the others kept going.
    expect(slowClosed).toBe(true);
    expect(await metric(gateway, "gateway_collab_slow_disconnects_total")).toBe(1);
    await vi.waitFor(async () => expect(await metric(gateway, "gateway_collab_connections")).toBe(2), { timeout: 10_000 });
    writer.doc.getText("t").insert(0, "after");
    await vi.waitFor(() => expect(reader.text().startsWith("after")).toBe(true), { timeout: 10_000 });
  });
});
