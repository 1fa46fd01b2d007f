/**
 * The chaos proof, shared by test/chaos.test.ts (bounded) and `npm run chaos` (prints figures):
 * a 3-node JetStream cluster with 3-replica streams, two sync replicas and two gateways behind a
 * TCP balancer, clients typing through /collab. Faults, one after another, each while clients type:
 * the EDITS stream's leader node is SIGKILLed; a sync replica; a gateway; a NATS node together with
 * a sync replica. After each: every edit any client saw confirmed is in the stream, every client
 * converges on what the stream holds, the edit log has no gaps, and the killed pieces rejoin.
 *
 * An edit (a token like `c2-41;` typed by client 2) counts as confirmed when another client has
 * it: replicas send others only what JetStream has stored, so that is the server's confirmation.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as Y from "yjs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Streams, type EditView, type Page } from "@palimpsest/contracts";
import { TestApi, natsOptionsFromEnv, startStores, startSystem, waitUntil, type RunningSystem, type StoreSet } from "@palimpsest/devkit";
import { connectClient, type CollabClient } from "./collab-client.ts";
import { storedEdits, storedUpdates } from "./stream-helpers.ts";
import { startTcpBalancer, type TcpBalancer } from "./tcp-balancer.ts";

export type FaultName = "stream-leader" | "sync-replica" | "gateway" | "nats-node-and-sync";
export const allFaults: FaultName[] = ["stream-leader", "sync-replica", "gateway", "nats-node-and-sync"];

export interface FaultReport {
  fault: FaultName;
  /** Edits typed during the stage that another client received (so the server had stored them). */
  confirmed: number;
  /** Of those, edits the stream does not hold at the end of the stage (goal 0). */
  lost: number;
  /** Edits typed during the stage that are in the stream once clients converged (a client resends what was never confirmed). */
  stored: number;
  /** Longest time a client waited, from the fault, for an edit it typed after the fault to be confirmed. */
  secondsWithoutService: number;
  /** Seconds from the fault until every client had the same document as the stream. */
  secondsToConverge: number;
  /** What the edit log said: versions 1..n with no gap, n the stream's count for the document. */
  historyVersions: number;
  /** The killed pieces, by name, once they answered again. */
  rejoined: string[];
}

export interface ChaosOptions {
  clients?: number;
  /** Typing before each fault and after it, before checking. */
  typeBeforeMs?: number;
  typeAfterMs?: number;
  /** Milliseconds between one client's keystrokes. */
  keystrokeMs?: number;
  faults?: FaultName[];
  log?: (line: string) => void;
}

interface Typist {
  index: number;
  client: CollabClient;
  typed: number;
  /** When each of its tokens was typed, and when another client first had it. */
  typedAt: Map<string, number>;
  confirmedAt: Map<string, number>;
}

const TOKEN = /c(\d+)-(\d+);/g;

export async function runChaos(opts: ChaosOptions = {}): Promise<FaultReport[]> {
  const log = opts.log ?? (() => undefined);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-chaos-"));
  let stores: StoreSet | undefined;
  let system: RunningSystem | undefined;
  let balancer: TcpBalancer | undefined;
  let nc: NatsConnection | undefined;
  const typists: Typist[] = [];
  try {
    stores = await startStores({ dataDir, durable: false, natsClusterSize: 3 });
    system = await startSystem({
      storeEnv: stores.env,
      syncReplicas: 2,
      gateways: 2,
      logDir: path.join(dataDir, "logs"),
      env: {
        LOG_LEVEL: "info",
        RATE_LIMIT_AUTH_PER_WINDOW: "100000",
        RATE_LIMIT_USER_PER_WINDOW: "100000",
        RATE_LIMIT_COLLAB_CONNECTS_PER_WINDOW: "100000",
      },
    });
    const sys = system;
    balancer = await startTcpBalancer(() => sys.byName("gateway").filter((g) => g.process.running).map((g) => g.port));
    nc = await connect({ ...natsOptionsFromEnv(stores.env), name: "chaos-observer", maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const jsm = await jetstreamManager(nc);
    const anon = new TestApi(balancer.url);
    const { api, auth } = await anon.newUser("Chaos");
    const docId = (await api.createDoc("Chaos")).id;
    log(`cluster of 3 nats-server nodes, 2 sync replicas, 2 gateways; document ${docId}`);

    for (let i = 0; i < (opts.clients ?? 4); i++) {
      typists.push({ index: i, client: connectClient(balancer.url, docId, auth.accessToken), typed: 0, typedAt: new Map(), confirmedAt: new Map() });
    }
    await waitUntil("clients synced", async () => typists.every((t) => t.client.provider.synced), { timeoutMs: 30_000 });

    // A token another client holds is confirmed; every client's text is scanned as it changes.
    for (const t of typists) {
      t.client.doc.getText("t").observe(() => {
        const now = Date.now();
        for (const m of t.client.text().matchAll(TOKEN)) {
          const owner = typists[Number(m[1])];
          if (owner && owner !== t && !owner.confirmedAt.has(m[0])) owner.confirmedAt.set(m[0], now);
        }
      });
    }

    const reports: FaultReport[] = [];
    for (const fault of opts.faults ?? allFaults) {
      reports.push(await stage(fault));
      log(JSON.stringify(reports.at(-1)));
    }
    return reports;

    async function stage(fault: FaultName): Promise<FaultReport> {
      const stageTokens = new Set<string>();
      let typing = true;
      const loops = typists.map(async (t) => {
        while (typing) {
          const token = `c${t.index}-${t.typed++};`;
          const text = t.client.doc.getText("t");
          text.insert(text.length, token);
          t.typedAt.set(token, Date.now());
          stageTokens.add(token);
          await new Promise((r) => setTimeout(r, opts.keystrokeMs ?? 40));
        }
      });
      await new Promise((r) => setTimeout(r, opts.typeBeforeMs ?? 2_000));
      const faultAt = Date.now();
      const restart = await inject(fault);
      await new Promise((r) => setTimeout(r, opts.typeAfterMs ?? 8_000));
      typing = false;
      await Promise.all(loops);
      const rejoined = await restart();

      // Converged: every client has the same text as the stream replayed on its own.
      let streamText = "";
      let state = "";
      try {
        await waitUntil(
          `clients converge after ${fault}`,
          async () => {
            const replay = new Y.Doc();
            for (const u of await storedUpdates(nc!, jsm, docId)) Y.applyUpdate(replay, u);
            streamText = replay.getText("t").toString();
            state = `stream ${streamText.length} chars; clients ${typists.map((t) => `${t.client.text().length}${t.client.provider.wsconnected ? "" : " down"}${t.client.provider.synced ? "" : " unsynced"}`).join(", ")}`;
            return typists.every((t) => t.client.provider.synced && t.client.text() === streamText);
          },
          { timeoutMs: 60_000, intervalMs: 250 },
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}: ${state}`);
      }
      const convergedAt = Date.now();
      const inStream = new Set([...streamText.matchAll(TOKEN)].map((m) => m[0]));
      const confirmed = typists.flatMap((t) => [...t.confirmedAt.keys()].filter((k) => stageTokens.has(k)));
      const lost = confirmed.filter((k) => !inStream.has(k)).length;
      const waits = typists.map((t) => {
        const after = [...t.typedAt].filter(([k, at]) => at >= faultAt && stageTokens.has(k) && t.confirmedAt.has(k));
        const first = Math.min(...after.map(([k]) => t.confirmedAt.get(k)!));
        return Number.isFinite(first) ? first - faultAt : convergedAt - faultAt;
      });
      return {
        fault,
        confirmed: confirmed.length,
        lost,
        stored: [...stageTokens].filter((k) => inStream.has(k)).length,
        secondsWithoutService: Math.max(...waits) / 1000,
        secondsToConverge: (convergedAt - faultAt) / 1000,
        historyVersions: await historyWithoutGaps(api, jsm, docId),
        rejoined,
      };
    }

    /** Injects a fault; returns how to bring the killed pieces back, resolving with their names once they answer. */
    async function inject(fault: FaultName): Promise<() => Promise<string[]>> {
      const cluster = stores!.nats!;
      const leaderName = async () => (await jsm.streams.info(Streams.edits)).cluster?.leader;
      const node = async (pick: "leader" | "follower") => {
        const leader = await leaderName();
        const n = cluster.nodes.find((x) => (pick === "leader" ? x.name === leader : x.name !== leader));
        if (!n) throw new Error(`no ${pick} node`);
        return n;
      };
      const rejoinNode = async (n: (typeof cluster.nodes)[number]) => {
        await n.restart();
        await waitUntil(`${n.name} current`, async () => {
          const info = await jsm.streams.info(Streams.edits);
          return [info.cluster?.leader, ...(info.cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name)].includes(n.name);
        }, { timeoutMs: 60_000, intervalMs: 250 });
        return n.name;
      };
      const rejoinServices = async () => {
        const down = system!.services.filter((s) => !s.process.running).map((s) => `${s.name}-${s.instance}`);
        await system!.start();
        return down;
      };
      switch (fault) {
        case "stream-leader": {
          const n = await node("leader");
          n.process.child.kill("SIGKILL");
          return async () => [await rejoinNode(n)];
        }
        case "sync-replica": {
          await system!.byName("sync")[0]!.process.kill();
          return rejoinServices;
        }
        case "gateway": {
          await system!.byName("gateway")[0]!.process.kill();
          return rejoinServices;
        }
        case "nats-node-and-sync": {
          const n = await node("follower");
          n.process.child.kill("SIGKILL");
          await system!.byName("sync")[1]!.process.kill();
          return async () => [await rejoinNode(n), ...(await rejoinServices())];
        }
      }
    }
  } finally {
    for (const t of typists) t.client.destroy();
    await nc?.close().catch(() => undefined);
    await balancer?.close();
    await system?.stop();
    await stores?.stop();
    if (!process.env["KEEP_TEST_DATA"]) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The edit log's versions are 1..n with no gap, and n is what the stream holds; returns n. */
async function historyWithoutGaps(api: TestApi, jsm: JetStreamManager, docId: string): Promise<number> {
  const inStream = await storedEdits(jsm, docId);
  const seqs: number[] = [];
  await waitUntil(
    "edit log caught up",
    async () => {
      seqs.length = 0;
      let after = 0;
      for (;;) {
        const page = await api.get<Page<EditView>>(`/api/docs/${docId}/history?after=${after}&limit=1000`);
        if (page.status !== 200) return false;
        seqs.push(...page.body.items.map((e) => e.seq));
        if (!page.body.nextCursor || page.body.items.length === 0) break;
        after = page.body.items.at(-1)!.seq;
      }
      return seqs.length === inStream;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  seqs.forEach((s, i) => {
    if (s !== i + 1) throw new Error(`edit log gap: version ${i + 1} is ${s}`);
  });
  return seqs.length;
}
