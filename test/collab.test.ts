import net from "node:net";
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import * as decoding from "lib0/decoding";
import { EditHeaders, Streams, subjects, type EditView, type Page } from "@palimpsest/contracts";
import { useSystem } from "./system.ts";
import { rawConnect } from "./collab-client.ts";

const ctx = useSystem("collab", { syncReplicas: 2 });



async function syncConnections(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("sync_connections"));
  return Number(line?.split(" ").pop() ?? NaN);
}

/** Established TCP connections to this port on 127.0.0.1, from /proc (IPv4). */
async function tcpConnectionsTo(port: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const table = await readFile("/proc/net/tcp", "utf8");
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  // Columns: sl, local address, remote address, state (01: established).
  return table
    .split("\n")
    .slice(1)
    .filter((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1]?.endsWith(`:${hexPort}`) && cols[3] === "01";
    }).length;
}

/** The opcodes of the server's frames in a raw byte stream (server frames are unmasked). */
function serverOpcodes(bytes: Buffer): { opcodes: number[]; closeCodes: number[] } {
  const opcodes: number[] = [];
  const closeCodes: number[] = [];
  let i = bytes.indexOf("\r\n\r\n") + 4;
  while (i + 2 <= bytes.length) {
    const len7 = bytes[i + 1]! & 0x7f;
    const head = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
    const len = len7 < 126 ? len7 : len7 === 126 ? bytes.readUInt16BE(i + 2) : Number(bytes.readBigUInt64BE(i + 2));
    const opcode = bytes[i]! & 0x0f;
    opcodes.push(opcode);
    if (opcode === 0x8 && len >= 2) closeCodes.push(bytes.readUInt16BE(i + head));
    i += head + len;
  }
  return { opcodes, closeCodes };
}

describe("live collaboration through the gateway", () => {
  it("speaks WebSocket to a raw client: a 101 handshake, binary frames, and exactly one close frame answering the client's", async () => {
    const { api, auth } = await ctx.anon.newUser("Raw");
    const doc = await api.createDoc("Raw bytes");
    const url = new URL(ctx.system.gatewayUrl());
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const received: Buffer[] = [];
    socket.on("data", (d: Buffer) => received.push(d));
    const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      [
        `GET /collab/${doc.id}?token=${auth.accessToken} HTTP/1.1`,
        `Host: ${url.host}`,
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        "",
        "",
      ].join("\r\n"),
    );
    // The server's opening messages (sync step 1 at least) arrive as binary frames.
    await vi.waitFor(() => expect(serverOpcodes(Buffer.concat(received)).opcodes).toContain(0x2));
    expect(Buffer.concat(received).toString("latin1")).toMatch(/^HTTP\/1\.1 101 /);
    // The client closes (a masked close frame, code 1000); the gateway answers, then the TCP stream ends.
    const mask = randomBytes(4);
    const payload = Buffer.from([0x03, 0xe8]).map((b, i) => b ^ mask[i % 4]!);
    socket.write(Buffer.concat([Buffer.from([0x88, 0x80 | 2]), mask, payload]));
    await ended;
    const { opcodes, closeCodes } = serverOpcodes(Buffer.concat(received));
    expect(opcodes.filter((o) => o === 0x8)).toHaveLength(1);
    expect(closeCodes).toEqual([1000]);
  });


  it("two y-websocket clients on different sync replicas converge, and every edit is stored with its author", async () => {
    const { api: alice, auth: aliceAuth } = await ctx.anon.newUser("Alice");
    const doc = await alice.createDoc("Shared");
    const a = ctx.client(doc.id, aliceAuth.accessToken);
    await vi.waitFor(() => expect(a.provider.synced).toBe(true));
    const b = ctx.client(doc.id, aliceAuth.accessToken);
    await vi.waitFor(() => expect(b.provider.synced).toBe(true));

    // The gateway spread the two connections over the two sync replicas.
    const [s1, s2] = ctx.system.byName("sync");
    expect([await syncConnections(s1!.port), await syncConnections(s2!.port)]).toEqual([1, 1]);

    a.doc.getText("t").insert(0, "Hello from A. ");
    b.doc.getText("t").insert(0, "Hello from B. ");
    await vi.waitFor(() => {
      expect(a.text()).toBe(b.text());
      expect(a.text()).toContain("Hello from A.");
      expect(a.text()).toContain("Hello from B.");
    });

    const last = await ctx.jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(doc.id) });
    expect(last?.header.get(EditHeaders.author)).toBe(aliceAuth.user.id);
    expect(last?.header.get(EditHeaders.client)).not.toBe("");
    expect(Date.parse(last?.header.get(EditHeaders.time) ?? "")).toBeGreaterThan(Date.now() - 60_000);

    await vi.waitFor(async () => {
      const history = await alice.get<Page<EditView>>(`/api/docs/${doc.id}/history`);
      expect(history.status).toBe(200);
      expect(history.body.items.length).toBeGreaterThanOrEqual(2);
      expect(history.body.items.every((e) => e.userId === aliceAuth.user.id)).toBe(true);
      expect(history.body.items.map((e) => e.seq)).toEqual(history.body.items.map((_, i) => i + 1));
    });
  });

  it("carries its clients to each replica on one shared connection, not one connection per client", async () => {
    const { api, auth } = await ctx.anon.newUser("Many");
    const doc = await api.createDoc("Many clients");
    const [s1, s2] = ctx.system.byName("sync");
    const before = [await syncConnections(s1!.port), await syncConnections(s2!.port)];
    const clients = Array.from({ length: 8 }, () => ctx.client(doc.id, auth.accessToken));
    await vi.waitFor(() => expect(clients.every((c) => c.provider.synced)).toBe(true));
    clients[0]!.doc.getText("t").insert(0, "to all eight");
    await vi.waitFor(() => expect(clients.map((c) => c.text())).toEqual(Array(8).fill("to all eight")));

    // Both replicas took clients, and the gateway reaches each over one channel.
    const after = [await syncConnections(s1!.port), await syncConnections(s2!.port)];
    expect(after[0]! - before[0]! + after[1]! - before[1]!).toBe(8);
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]!).toBeGreaterThan(0);
    const [gw] = ctx.system.byName("gateway");
    const gateway = await (await fetch(`http://127.0.0.1:${gw!.metricsPort}/metrics`)).text();
    expect(gateway).toMatch(/^gateway_sync_channels\{[^}]*\} 2$/m);
    for (const replica of [s1!, s2!]) {
      const established = await tcpConnectionsTo(replica.port);
      expect(established).toBeLessThanOrEqual(2);
    }
  });

  it("attributes each edit to the user who made it", async () => {
    const { api: owner, auth: ownerAuth } = await ctx.anon.newUser("Owner");
    const doc = await owner.createDoc("Mine");
    const a = ctx.client(doc.id, ownerAuth.accessToken);
    await vi.waitFor(() => expect(a.provider.synced).toBe(true));
    a.doc.getText("t").insert(0, "abc");
    await vi.waitFor(async () => {
      const h = await owner.get<Page<EditView>>(`/api/docs/${doc.id}/history`);
      expect(h.body.items).toHaveLength(1);
      expect(h.body.items[0]).toMatchObject({ seq: 1, userId: ownerAuth.user.id });
      expect(h.body.items[0]!.size).toBeGreaterThan(0);
    });
    const { api: stranger } = await ctx.anon.newUser();
    expect((await stranger.get(`/api/docs/${doc.id}/history`)).status).toBe(404);
  });

  it("a late joiner receives the whole document", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const doc = await api.createDoc("Late");
    const a = ctx.client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(a.provider.synced).toBe(true));
    for (let i = 0; i < 50; i++) a.doc.getText("t").insert(a.text().length, `${i},`);
    await vi.waitFor(async () => {
      const last = await ctx.jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(doc.id) });
      expect(last).not.toBeNull();
    });
    const late = ctx.client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(late.text()).toBe(a.text()));
    expect(late.text().split(",")).toHaveLength(51);
  });
});

describe("refusals on /collab", () => {
  function firstMessageType(m: Uint8Array): number {
    return decoding.readVarUint(decoding.createDecoder(m));
  }

  async function expectRefused(url: string, code: number) {
    const s = rawConnect(url);
    const closed = await s.closed;
    expect(closed.code).toBe(code);
    // Nothing of the document: at most the auth permission-denied message (type 2).
    expect(s.messages.map(firstMessageType).filter((t) => t !== 2)).toEqual([]);
  }

  it("no token, a bad token, and a user without access get no document content", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const doc = await api.createDoc("Secret");
    const owner = ctx.client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(owner.provider.synced).toBe(true));
    owner.doc.getText("t").insert(0, "top secret");
    await vi.waitFor(async () => expect(await ctx.jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(doc.id) })).not.toBeNull());

    const ws = ctx.system.gatewayUrl().replace(/^http/, "ws");
    await expectRefused(`${ws}/collab/${doc.id}`, 4401);
    await expectRefused(`${ws}/collab/${doc.id}?token=not-a-token`, 4401);
    const [h, p] = auth.accessToken.split(".");
    await expectRefused(`${ws}/collab/${doc.id}?token=${h}.${p}.${"A".repeat(86)}`, 4401);
    const { auth: stranger } = await ctx.anon.newUser("Stranger");
    await expectRefused(`${ws}/collab/${doc.id}?token=${stranger.accessToken}`, 4403);
    await expectRefused(`${ws}/collab/does-not-exist?token=${stranger.accessToken}`, 4403);
  });

  it("the y-websocket client stops retrying after a permanent refusal", async () => {
    const { api } = await ctx.anon.newUser();
    const doc = await api.createDoc("x");
    const { auth: stranger } = await ctx.anon.newUser();
    const c = ctx.client(doc.id, stranger.accessToken);
    const closed = vi.fn();
    c.provider.on("connection-close", (event) => closed(event?.code));
    await vi.waitFor(() => expect(closed).toHaveBeenCalledWith(4403));
    expect(c.provider.synced).toBe(false);
    expect(c.text()).toBe("");
  });
});
