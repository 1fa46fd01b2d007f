import { describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import WebSocket from "ws";
import type { AuthResult, FileView } from "@palimpsest/contracts";
import type { ServiceHandle } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import { storedUpdates, syncUpdateMessage } from "./stream-helpers.ts";
import { connectClient, rawConnect, type CollabClient } from "./collab-client.ts";
import { startTcpBalancer } from "./tcp-balancer.ts";

/**
 * Replicas found, not listed, and stopped without losing anything: a sync replica that gets
 * SIGTERM hands its clients to the other replica (1012), and a rolling restart of every service
 * under typing loses no edit. The gateways get no SYNC_URLS: they find the replicas over NATS.
 */
const ctx = useSystem("drain", {
  syncReplicas: 2,
  gateways: 2,
  env: {
    // Typists and the raw sender below go faster than this, so connections are paced (a backlog
    // waits in the replica) when the drain begins: that backlog must be stored too.
    // About 50 one-letter updates a second (each about 40 bytes, plus the 64 counted per message).
    SYNC_BYTES_PER_SECOND: "5000",
    SYNC_BURST_BYTES: "1024",
    SYNC_RESYNC_MS: "2000",
  },
});

/** A y-websocket client that types one letter of its own, and what happened to its connection. */
interface Typist {
  client: CollabClient;
  letter: string;
  typed: number;
  /** Close codes of its connections, in order. */
  closes: number[];
  /** Milliseconds from each server close to being synced again. */
  outages: number[];
  /** Whether it has been synced since its `n`-th close. */
  syncedAfter(n: number): boolean;
}

function typist(client: CollabClient, letter: string): Typist {
  let downSince: number | undefined;
  const closesAtSync: number[] = [];
  const t: Typist = {
    client,
    letter,
    typed: 0,
    closes: [],
    outages: [],
    syncedAfter: (n) => closesAtSync.some((c) => c >= n),
  };
  client.provider.on("connection-close", (event) => {
    if (!event) return;
    t.closes.push(event.code);
    downSince ??= performance.now();
  });
  client.provider.on("sync", (synced: boolean) => {
    if (!synced) return;
    closesAtSync.push(t.closes.length);
    if (downSince !== undefined) t.outages.push(performance.now() - downSince);
    downSince = undefined;
  });
  return t;
}

/** Types at the end of the shared text until told to stop (or a bound is reached); pacing only, correctness never waits on it. */
function typeUntil(typists: Typist[], stop: { now: boolean }, everyMs = 10, maxEach = 5_000): Promise<void[]> {
  return Promise.all(
    typists.map(async (t) => {
      while (!stop.now && t.typed < maxEach) {
        const text = t.client.doc.getText("t");
        text.insert(text.length, t.letter);
        t.typed++;
        await new Promise((r) => setTimeout(r, everyMs));
      }
    }),
  );
}

async function newDoc(): Promise<{ auth: AuthResult; docId: string }> {
  const { api, auth } = await ctx.anon.newUser();
  const doc = await api.createDoc("Drain");
  return { auth, docId: doc.id };
}

/** One value of a Prometheus text exposition, without labels. */
async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

const serviceUrl = (h: ServiceHandle) => `http://127.0.0.1:${h.port}`;

async function streamText(docId: string): Promise<string> {
  const doc = new Y.Doc();
  for (const u of await storedUpdates(ctx.nc, ctx.jsm, docId)) Y.applyUpdate(doc, u);
  return doc.getText("t").toString();
}

const count = (text: string, letter: string) => [...text].filter((c) => c === letter).length;

/** Every client holds the stream's text, and the stream holds every letter each client typed. */
async function expectConverged(docId: string, typists: Typist[], extra: { letter: string; sent: number }[] = [], after = ""): Promise<string> {
  let stream = "";
  await vi.waitFor(
    async () => {
      stream = await streamText(docId);
      const state = [after && `after ${after}`, ...typists.map((t) => `${t.letter}: typed ${t.typed}, has ${t.client.text().length}, ${t.client.provider.wsconnected ? "up" : "down"}`)].filter(Boolean);
      for (const t of typists) expect(count(stream, t.letter), `stream lacks ${t.letter}; ${state.join("; ")}`).toBe(t.typed);
      for (const e of extra) expect(count(stream, e.letter), `stream lacks what ${e.letter} sent`).toBe(e.sent);
      for (const t of typists) expect(t.client.text(), state.join("; ")).toBe(stream);
    },
    { timeout: 30_000, interval: 250 },
  );
  return stream;
}

/**
 * A bare WebSocket that sends a stream of updates of its own (one letter each) as fast as it is
 * told, and never resends: unlike y-websocket, it does not repair a loss on reconnect, so every
 * update it handed to the socket before the server's close must be in the stream.
 */
function rawSender(url: string, letter: string) {
  const session = rawConnect(url);
  const doc = new Y.Doc();
  let sent = 0;
  doc.on("update", (update: Uint8Array) => {
    if (session.socket.readyState !== WebSocket.OPEN) return;
    session.socket.send(syncUpdateMessage(update));
    sent++;
  });
  return {
    session,
    get sent() {
      return sent;
    },
    /** One more letter, if the socket is still open. */
    type(): boolean {
      if (session.socket.readyState !== WebSocket.OPEN) return false;
      doc.getText("t").insert(doc.getText("t").length, letter);
      return true;
    },
  };
}

describe("draining a sync replica", () => {
  it("SIGTERM: the replica leaves the gateways' set, its clients get 1012 and continue on the other replica, and nothing any of them sent is lost", async () => {
    const replica = (instance: string) => {
      const h = ctx.system.byName("sync").find((s) => s.instance === instance);
      if (!h) throw new Error(`no sync replica ${instance}`);
      return h;
    };
    const sync1 = replica("1");
    const sync2 = replica("2");
    // Every client on replica 1: replica 2 is away while they connect. Its leave reaches both gateways.
    await sync2.process.stop();
    await vi.waitFor(async () => {
      for (const g of [0, 1]) expect(await metric(`http://127.0.0.1:${ctx.system.byName("gateway")[g]!.metricsPort}`, "gateway_sync_replicas")).toBe(1);
    });
    const { auth, docId } = await newDoc();
    const typists = ["a", "b", "c", "d"].map((letter, i) => typist(ctx.client(docId, auth.accessToken, i % 2), letter));
    await vi.waitFor(() => expect(typists.every((t) => t.client.provider.synced)).toBe(true));
    const raw = rawSender(`${ctx.system.gatewayUrl(0).replace(/^http/, "ws")}/collab/${docId}?token=${auth.accessToken}`, "r");
    await vi.waitFor(() => expect(raw.session.messages.length).toBeGreaterThan(0));

    // Replica 2 comes back and is announced to both gateways; the clients stay where they are.
    await ctx.system.start();
    await vi.waitFor(async () => {
      for (const g of [0, 1]) expect(await metric(`http://127.0.0.1:${ctx.system.byName("gateway")[g]!.metricsPort}`, "gateway_sync_replicas")).toBe(2);
    });
    expect(await metric(serviceUrl(sync1), "sync_connections")).toBe(5);

    const stop = { now: false };
    const typing = typeUntil(typists, stop);
    // The raw client sends five times its budget, so a backlog is waiting in replica 1 when it drains.
    let rawTyping = true;
    const rawLoop = (async () => {
      for (let i = 0; i < 3_000 && rawTyping && raw.type(); i++) await new Promise((r) => setTimeout(r, 4));
    })();
    await vi.waitFor(() => expect(typists.every((t) => t.typed >= 100) && raw.sent >= 300).toBe(true), { timeout: 20_000 });

    const sigterm = performance.now();
    const exited = sync1.process.stop(15_000);
    const rawClose = await raw.session.closed;
    rawTyping = false;
    await rawLoop;
    expect(rawClose.code).toBe(1012);
    await exited;
    const drainMs = performance.now() - sigterm;

    // Every typist was told to reconnect, did so at the first try (a refused attempt would show as
    // another close), is synced on replica 2, and types on.
    await vi.waitFor(() => expect(typists.every((t) => t.syncedAfter(1))).toBe(true), { timeout: 15_000 });
    for (const t of typists) expect(t.closes).toEqual([1012]);
    const typedAtDrain = typists.map((t) => t.typed);
    await vi.waitFor(() => expect(typists.every((t, i) => t.typed >= typedAtDrain[i]! + 30)).toBe(true), { timeout: 20_000 });
    stop.now = true;
    await typing;

    expect(await metric(serviceUrl(replica("2")), "sync_connections")).toBe(4);
    const stream = await expectConverged(docId, typists, [{ letter: "r", sent: raw.sent }]);
    // A graceful exit, within its time: not the 15 s limit, not a SIGKILL.
    expect(await sync1.process.exited).toBe(0);
    const outages = typists.flatMap((t) => t.outages);
    process.stdout.write(
      `drain: replica stopped in ${(drainMs / 1000).toFixed(2)} s; clients without service ${(Math.min(...outages) / 1000).toFixed(2)}-${(Math.max(...outages) / 1000).toFixed(2)} s; ` +
        `typed ${typists.reduce((a, t) => a + t.typed, 0)} + raw ${raw.sent}, in the stream ${stream.length}, lost 0\n`,
    );
    await ctx.system.start();
  }, 120_000);
});

/** A 1x1 PNG: the files service checks the bytes, not the name. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

describe("rolling restart", () => {
  it("restarting every service in turn (SIGTERM, start again) while people type loses nothing, and the gateways find the restarted replicas", async () => {
    const { api, auth, docId } = await (async () => {
      const { api: a, auth: u } = await ctx.anon.newUser();
      return { api: a, auth: u, docId: (await a.createDoc("Rolling")).id };
    })();
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(PNG)], { type: "image/png" }), "dot.png");
    const uploaded = await fetch(`${api.baseUrl}/api/docs/${docId}/files`, { method: "POST", headers: { authorization: `Bearer ${auth.accessToken}` }, body: form });
    expect(uploaded.status).toBe(201);
    const file = (await uploaded.json()) as FileView;

    // Clients reach the gateways as they would in production: through one address that balances.
    const balancer = await startTcpBalancer(() => ctx.system.byName("gateway").map((g) => g.port));
    const typists = ["k", "l", "m", "n"].map((letter) => typist(connectClient(balancer.url, docId, auth.accessToken), letter));
    let stop = { now: false };
    let typing: Promise<void[]> | undefined;
    const restarts: { service: string; seconds: number }[] = [];
    try {
      await vi.waitFor(() => expect(typists.every((t) => t.client.provider.synced)).toBe(true));
      for (const name of ["auth", "docs", "history", "files", "sync", "gateway"] as const) {
        for (const handle of ctx.system.byName(name)) {
          const service = `${name}-${handle.instance}`;
          // Everyone types while the service stops and starts again.
          stop = { now: false };
          typing = typeUntil(typists, stop, 20);
          await vi.waitFor(() => expect(typists.every((t) => t.typed > 0)).toBe(true));
          const started = performance.now();
          await handle.process.stop(15_000);
          expect(await handle.process.exited, `${service} exit code`).toBe(0);
          await ctx.system.start();
          restarts.push({ service, seconds: (performance.now() - started) / 1000 });
          // Every client is connected and synced again, and types on a little (there is always one of each).
          const typedAfter = typists.map((t) => t.typed);
          await vi.waitFor(() => expect(typists.every((t, i) => t.client.provider.synced && t.typed >= typedAfter[i]! + 5)).toBe(true), { timeout: 30_000 });
          stop.now = true;
          await typing;
          // Nothing typed so far is missing, after this restart as after every other.
          await expectConverged(docId, typists, [], service);
        }
        if (name === "files") {
          // The restarted files replica was forgotten when it left and found again when it announced itself.
          for (const g of [0, 1]) {
            const res = await fetch(`${ctx.system.gatewayUrl(g)}/api/files/${file.id}`, { headers: { authorization: `Bearer ${auth.accessToken}` } });
            expect(res.status).toBe(200);
            expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG);
          }
        }
      }
      const stream = await streamText(docId);
      const outages = typists.flatMap((t) => t.outages);
      process.stdout.write(
        `rolling restart: ${restarts.map((r) => `${r.service} ${r.seconds.toFixed(1)} s`).join(", ")}; ` +
          `reconnects ${typists.reduce((a, t) => a + t.closes.length, 0)} (codes ${[...new Set(typists.flatMap((t) => t.closes))].join(",")}); ` +
          `longest without service ${(Math.max(0, ...outages) / 1000).toFixed(2)} s; typed ${typists.reduce((a, t) => a + t.typed, 0)}, in the stream ${stream.length}, lost 0\n`,
      );
    } finally {
      stop.now = true;
      await typing;
      for (const t of typists) t.client.destroy();
      await balancer.close();
    }
  }, 240_000);
});
