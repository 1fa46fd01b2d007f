// Each store going away under typing load: Postgres, Redis, the object store and NATS (one node)
// are stopped in turn for a few seconds and started again, on a store set of this file's own (the
// run's shared stores serve the other files). Clients type through /collab on two documents the
// whole time. Per fault: the seconds each service's /readyz was not 200, the seconds from the
// store's return until every service was ready again, the edits another client saw (so the server
// had stored them) and how many of those the stream lost (goal 0); clients converge on the stream,
// and the edit log and the documents list catch up. A table of the figures is printed.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { AuthResult, DocView, EditView, Page } from "@palimpsest/contracts";
import { ManagedProcess, TestApi, natsOptionsFromEnv, portAnswers, startStores, startSystem, waitUntil, type RunningSystem, type StoreSet } from "@palimpsest/devkit";
import { connectClient, type CollabClient } from "./collab-client.ts";
import { storedEdits, storedUpdates } from "./stream-helpers.ts";
import { testDefaults } from "./system.ts";

type Store = "postgres" | "redis" | "object store" | "nats";
const FAULTS: Store[] = ["postgres", "redis", "object store", "nats"];
const OUTAGE_MS = Number(process.env["OUTAGE_MS"] ?? "6000");

let dataDir: string;
let stores: StoreSet | undefined;
let system: RunningSystem | undefined;
let nc: NatsConnection | undefined;
let jsm: JetStreamManager;
const restarted: ManagedProcess[] = [];
const clients: CollabClient[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-outages-"));
  // As the shared test stores and deploy/k8s dev-stores run them: Redis without persistence.
  stores = await startStores({ dataDir, durable: false });
  system = await startSystem({ storeEnv: stores.env, logDir: path.join(dataDir, "logs"), env: { ...testDefaults, LOG_LEVEL: "info" } });
  nc = await connect({ ...natsOptionsFromEnv(stores.env), name: "outage-observer", maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await nc?.close().catch(() => undefined);
  await system?.stop();
  await Promise.all(restarted.map((p) => p.stop(10_000, "SIGINT")));
  await stores?.stop();
  if (!process.env["KEEP_TEST_DATA"]) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The store's process as it runs now (a restart replaces it), and how to stop and start it. */
function storeControl(store: Store) {
  const s = stores!;
  const byName = { postgres: "postgres", redis: "redis-server", "object store": "s3rver" } as const;
  const port = { postgres: new URL(s.databaseUrl).port, redis: new URL(s.redisUrl).port, "object store": new URL(s.s3Endpoint).port };
  const current = () => {
    if (store === "nats") throw new Error("nats is a node");
    const name = byName[store];
    return [...restarted].reverse().find((p) => p.options.name === name) ?? s.processes.find((p) => p.options.name === name)!;
  };
  return {
    async stop() {
      if (store === "nats") return s.nats!.nodes[0]!.process.stop();
      // Postgres waits for every client to leave on SIGTERM; SIGINT is its fast shutdown.
      return current().stop(10_000, store === "postgres" ? "SIGINT" : "SIGTERM");
    },
    async start() {
      if (store === "nats") return s.nats!.nodes[0]!.restart();
      const p = new ManagedProcess(current().options);
      restarted.push(p);
      await waitUntil(store, () => portAnswers(Number(port[store])), { process: p, timeoutMs: 60_000 });
    },
  };
}

/** Polls every service's /readyz; counts, per service, the time it was not 200 (a hang counts). */
function watchReadiness(sys: RunningSystem) {
  const notReadyMs = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    let last = Date.now();
    while (running) {
      const results = await Promise.all(
        sys.services.map(async (s) => {
          const ok = await fetch(`http://127.0.0.1:${s.port}/readyz`, { signal: AbortSignal.timeout(3_500) })
            .then((r) => r.status === 200)
            .catch(() => false);
          return [`${s.name}-${s.instance}`, ok] as const;
        }),
      );
      const now = Date.now();
      for (const [name, ok] of results) if (!ok) notReadyMs.set(name, (notReadyMs.get(name) ?? 0) + (now - last));
      last = now;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Object.fromEntries([...notReadyMs].map(([k, v]) => [k, Math.round(v / 100) / 10]));
    },
  };
}

/** The services whose /readyz is not 200 now, each with what it said (its failing checks). */
async function notReady(sys: RunningSystem): Promise<string[]> {
  const results = await Promise.all(
    sys.services.map(async (s) => {
      const said = await fetch(`http://127.0.0.1:${s.port}/readyz`, { signal: AbortSignal.timeout(3_500) })
        .then(async (r) => (r.status === 200 ? null : `${r.status} ${await r.text()}`))
        .catch((err: unknown) => String(err));
      return said === null ? null : `${s.name}-${s.instance}: ${said.slice(0, 200)}`;
    }),
  );
  return results.filter((r): r is string => r !== null);
}

interface Typist {
  doc: number;
  index: number;
  client: CollabClient;
  typed: number;
}

interface FaultReport {
  store: Store;
  notReadySeconds: Record<string, number>;
  secondsToRecover: number;
  confirmed: number;
  lost: number;
  secondsToConverge: number;
}

const TOKEN = /d(\d+)c(\d+)-(\d+);/g;

describe("each store going away under typing load", () => {
  it("loses no acknowledged edit; services report not-ready while a store they need is gone and recover by themselves; projections catch up; clients converge", { timeout: 420_000 }, async () => {
    const sys = system!;
    const anon = new TestApi(sys.gatewayUrl());
    const owner: { api: TestApi; auth: AuthResult } = await anon.newUser("Typist");
    const docs: DocView[] = [await owner.api.createDoc("Outage one"), await owner.api.createDoc("Outage two")];
    const typists: Typist[] = [];
    for (const [d, doc] of docs.entries()) {
      for (let i = 0; i < 2; i++) {
        const client = connectClient(sys.gatewayUrl(), doc.id, owner.auth.accessToken);
        clients.push(client);
        typists.push({ doc: d, index: i, client, typed: 0 });
      }
    }
    await waitUntil("clients synced", async () => typists.every((t) => t.client.provider.synced), { timeoutMs: 30_000 });
    // A token another client of the same document holds was stored: replicas only send what JetStream acknowledged.
    const confirmed = new Set<string>();
    for (const t of typists) {
      t.client.doc.getText("t").observe(() => {
        for (const m of t.client.text().matchAll(TOKEN)) if (Number(m[2]) !== t.index) confirmed.add(m[0]);
      });
    }

    // A signed-out session, to see whether its refusal outlives a Redis restart (revocations are marked there).
    const leaver = await anon.newUser("Leaver");
    expect((await leaver.api.post("/api/auth/logout")).status).toBeLessThan(300);
    expect((await leaver.api.get("/api/docs")).status).toBe(401);
    let revokedAfterRedis = 0;

    const reports: FaultReport[] = [];
    for (const store of FAULTS) {
      const control = storeControl(store);
      const before = new Set(confirmed);
      let typing = true;
      const loops = typists.map(async (t) => {
        while (typing) {
          const text = t.client.doc.getText("t");
          text.insert(text.length, `d${t.doc}c${t.index}-${t.typed++};`);
          await new Promise((r) => setTimeout(r, 120));
        }
      });
      const watch = watchReadiness(sys);
      await new Promise((r) => setTimeout(r, 1_500));
      const faultAt = Date.now();
      await control.stop();
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      await control.start();
      const backAt = Date.now();
      let waiting: string[] = [];
      await waitUntil(`every service ready again after ${store}`, async () => (waiting = await notReady(sys)).length === 0, { timeoutMs: 90_000, intervalMs: 250 }).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; still not ready: ${waiting.join(" | ")}`);
      });
      const secondsToRecover = (Date.now() - backAt) / 1000;
      await new Promise((r) => setTimeout(r, 1_500));
      typing = false;
      await Promise.all(loops);
      const notReadySeconds = await watch.stop();

      // Clients converge on what the stream holds; every confirmed token is in it.
      const streamTexts: string[] = [];
      let state = "";
      try {
        await waitUntil(
          `clients converge after ${store}`,
          async () => {
            for (const [d, doc] of docs.entries()) {
              const replay = new Y.Doc();
              for (const u of await storedUpdates(nc!, jsm, doc.id)) Y.applyUpdate(replay, u);
              streamTexts[d] = replay.getText("t").toString();
            }
            state = typists.map((t) => `${t.client.text().length}/${streamTexts[t.doc]?.length}${t.client.provider.synced ? "" : " unsynced"}`).join(", ");
            return typists.every((t) => t.client.provider.synced && t.client.text() === streamTexts[t.doc]);
          },
          { timeoutMs: 60_000, intervalMs: 500 },
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}: ${state}`);
      }
      const secondsToConverge = (Date.now() - faultAt) / 1000;
      const inStream = new Set(streamTexts.flatMap((t) => [...t.matchAll(TOKEN)].map((m) => m[0])));
      const stageConfirmed = [...confirmed].filter((k) => !before.has(k));
      const lost = [...confirmed].filter((k) => !inStream.has(k)).length;

      // The edit log catches up with the stream, and the documents list with a rename made now.
      for (const doc of docs) {
        const stored = await storedEdits(jsm, doc.id);
        await waitUntil(
          `edit log of ${doc.id} caught up after ${store}`,
          async () => {
            let count = 0;
            let after = 0;
            for (;;) {
              const page = await owner.api.get<Page<EditView>>(`/api/docs/${doc.id}/history?after=${after}&limit=1000`);
              if (page.status !== 200) return false;
              count += page.body.items.length;
              if (!page.body.nextCursor || page.body.items.length === 0) break;
              after = page.body.items.at(-1)!.seq;
            }
            return count === stored;
          },
          { timeoutMs: 60_000, intervalMs: 500 },
        );
      }
      const title = `After ${store}`;
      expect((await owner.api.call("PATCH", `/api/docs/${docs[0]!.id}`, { title })).status).toBe(200);
      await waitUntil(`documents list shows the rename after ${store}`, async () => {
        const list = await owner.api.get<{ items: DocView[] }>("/api/docs");
        return list.status === 200 && list.body.items.some((d) => d.id === docs[0]!.id && d.title === title);
      }, { timeoutMs: 30_000, intervalMs: 250 });

      if (store === "redis") revokedAfterRedis = (await leaver.api.get("/api/docs")).status;
      reports.push({ store, notReadySeconds, secondsToRecover, confirmed: stageConfirmed.length, lost, secondsToConverge });
    }

    const lines = [
      `store outages (${OUTAGE_MS / 1000} s each), per fault:`,
      "store        | not ready (s) per service                          | recover (s) | converge (s) | confirmed | lost",
      ...reports.map(
        (r) =>
          `${r.store.padEnd(12)} | ${(Object.entries(r.notReadySeconds).map(([k, v]) => `${k} ${v}`).join(", ") || "none").padEnd(50)} | ${r.secondsToRecover.toFixed(1).padStart(11)} | ${r.secondsToConverge.toFixed(1).padStart(12)} | ${String(r.confirmed).padStart(9)} | ${r.lost}`,
      ),
    ];
    lines.push(`a signed-out session's access token after the Redis restart: ${revokedAfterRedis} (401 = still refused)`);
    process.stdout.write(`${lines.join("\n")}\n`);
    for (const r of reports) {
      expect(r.lost, r.store).toBe(0);
      expect(r.confirmed, r.store).toBeGreaterThan(0);
      // The store's absence shows: some service said it was not ready.
      expect(Object.keys(r.notReadySeconds).length, `${r.store}: no service reported not-ready`).toBeGreaterThan(0);
    }
  });
});
