/**
 * Real-time sync against Hocuspocus (issue 5), side by side in one run on one machine: our
 * system (real NATS/Postgres/Redis/S3 and every service, clients through the gateway) and a
 * Hocuspocus 3.4 server in its own process (no extensions: documents in memory). One workload
 * driver per figure, parameterised only by how a client connects (y-websocket provider for us,
 * HocuspocusProvider for Hocuspocus); text is typed into a Y.XmlText inside a paragraph of the
 * XmlFragment `default` (what TipTap edits) on both.
 *
 * Parts (all by default, in this order; pick some with arguments or BENCH_SYNC_PARTS):
 *   memory   RSS of the server process(es) with N idle connections (default 1,000 over 100 docs) vs none
 *   latency  edit propagation, sender's local edit -> update applied in every other client:
 *            20 docs x 5 clients and 1 doc x 50 clients, each client typing 10 edits/s
 *   trace    the automerge-paper trace (259,778 single-character edits), each its own update,
 *            pipelined through one client until a second client holds the final text
 *   open     time for a fresh client to sync a document whose history is the whole trace
 *   scale    (only when named) BENCH_SCALE_DOCS documents (1,000) open at once, one client each:
 *            cold-open times, RSS and idle CPU of every process, JetStream consumers, then 1% typing
 *   connections (only when named) BENCH_CONNECTIONS idle /collab clients (20,000), BENCH_CONNECTIONS_PER_DOC
 *            (10) per document, held by child processes: RSS per connection of every serving process,
 *            idle CPU, then how long until every client is synced again after a sync replica is
 *            killed (needs BENCH_SYNC_REPLICAS >= 2; with 20,000, use 3 gateways and 3 replicas, as a
 *            process may hold 20,000 descriptors here). Hocuspocus: at most 19,500 (one process),
 *            and its process killed and started again.
 *
 * Run: npm run bench:sync [-- memory latency trace open]
 * Knobs: BENCH_LATENCY_SECONDS (20), BENCH_WARMUP_SECONDS (3), BENCH_IDLE_CONNECTIONS (1000),
 * BENCH_TRACE_EDITS (all), BENCH_OPEN_RUNS (3), BENCH_LATENCY_SCENARIOS ("20x5,1x50": docs x clients),
 * BENCH_SYNC_DIRECT=1 adds runs with our clients connected to the sync service directly (no gateway),
 * BENCH_STOP_HISTORY=1 (diagnosis) stops our history service first, to see what its projection costs.
 * BENCH_GATEWAYS and BENCH_SYNC_REPLICAS (1 each) run more of either; clients take the gateways in
 * turn (a gateway holds two descriptors per connection, and this machine allows 20,000 a process).
 * Every loop is bounded by count and by time; every process started here is stopped by its PID.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createHash } from "node:crypto";
import * as Y from "yjs";
import pg from "pg";
import { connect as natsConnect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Streams, editMessageId, subjects, writeEditHeaders } from "@palimpsest/contracts";
import { TestApi, natsOptionsFromEnv, repoRoot } from "@palimpsest/devkit";
import { machine, startBenchSystem, summary, type BenchSystem } from "./bench-system.ts";
import { scaleRun, type ScaleResult } from "./sync-scale.ts";
import { connectionsRun, type ConnectionsResult } from "./sync-connections.ts";
import type { WorkerClient } from "./connection-workers.ts";
import {
  BenchIdentities,
  CpuMeter,
  histogram,
  quantileBound,
  hocuspocusServer,
  machineCpuSeconds,
  metricValue,
  palimpsestServer,
  rssBytes,
  startHocuspocus,
  type BenchClient,
  type HocuspocusProcess,
  type ServedProcess,
  type ServerUnderTest,
} from "./sync-clients.ts";

const ALL_PARTS = ["memory", "latency", "trace", "open", "scale", "connections"] as const;
type Part = (typeof ALL_PARTS)[number];
/** "scale" opens thousands of documents: only when asked for. */
const DEFAULT_PARTS: Part[] = ["memory", "latency", "trace", "open"];

const envNum = (name: string, dflt: number) => {
  const v = process.env[name];
  const n = v === undefined || v === "" ? dflt : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};
const LATENCY_SECONDS = envNum("BENCH_LATENCY_SECONDS", 20);
const WARMUP_SECONDS = envNum("BENCH_WARMUP_SECONDS", 3);
const IDLE_CONNECTIONS = envNum("BENCH_IDLE_CONNECTIONS", 1000);
// y-websocket adds a process "exit" listener per provider in Node.
process.setMaxListeners(IDLE_CONNECTIONS + 200);
const OPEN_RUNS = Math.max(1, envNum("BENCH_OPEN_RUNS", 3));
const DIRECT = process.env["BENCH_SYNC_DIRECT"] === "1";
/** Diagnosis only: stop our history service (the edit-log projection into Postgres) before measuring. */
const STOP_HISTORY = process.env["BENCH_STOP_HISTORY"] === "1";
/** "20x5,1x50": documents x clients per document. */
const LATENCY_SCENARIOS: [number, number][] = (process.env["BENCH_LATENCY_SCENARIOS"] || "20x5,1x50").split(",").map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 2) throw new Error(`BENCH_LATENCY_SCENARIOS: "${s}" is not <docs>x<clients per doc>`);
  return [Number(m[1]), Number(m[2])];
});
const EDITS_PER_SECOND = 10;
const SCALE_DOCS = Math.max(1, envNum("BENCH_SCALE_DOCS", 1000));
const SCALE_IDLE_SECONDS = Math.max(1, envNum("BENCH_SCALE_IDLE_SECONDS", 10));
const SCALE_TYPING_SECONDS = Math.max(1, envNum("BENCH_SCALE_TYPING_SECONDS", 10));
const CONNECTIONS = Math.max(1, envNum("BENCH_CONNECTIONS", 20_000));
const CONNECTIONS_PER_DOC = Math.max(1, envNum("BENCH_CONNECTIONS_PER_DOC", 10));
const CONNECTIONS_IDLE_SECONDS = Math.max(1, envNum("BENCH_CONNECTIONS_IDLE_SECONDS", 20));
/** Hocuspocus is one process, and a process may hold 20,000 descriptors on this machine. */
const HOCUSPOCUS_MAX_CONNECTIONS = 19_500;
const GATEWAYS = Math.max(1, envNum("BENCH_GATEWAYS", 1));
const SYNC_REPLICAS = Math.max(1, envNum("BENCH_SYNC_REPLICAS", 1));
const TRACE_FILE = path.join(repoRoot, "..", "shared", "data", "traces", "automerge-paper.json.gz");

function selectedParts(): Part[] {
  const words = [...process.argv.slice(2), ...(process.env["BENCH_SYNC_PARTS"] ?? "").split(/[\s,]+/)].filter((w) => w !== "");
  if (words.length === 0) return [...DEFAULT_PARTS];
  for (const w of words) if (!(ALL_PARTS as readonly string[]).includes(w)) throw new Error(`unknown part ${w}; choose from ${ALL_PARTS.join(", ")}`);
  return ALL_PARTS.filter((p) => words.includes(p));
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** The typed text: the XmlText of the first paragraph of the XmlFragment `default`. */
function textOf(doc: Y.Doc): Y.XmlText | undefined {
  const paragraph = doc.getXmlFragment("default").get(0);
  if (!(paragraph instanceof Y.XmlElement)) return undefined;
  const text = paragraph.get(0);
  return text instanceof Y.XmlText ? text : undefined;
}

/** Creates the paragraph and its text in one update (done by one client per document). */
function createText(doc: Y.Doc): Y.XmlText {
  const text = new Y.XmlText();
  doc.transact(() => {
    const paragraph = new Y.XmlElement("paragraph");
    paragraph.insert(0, [text]);
    doc.getXmlFragment("default").insert(0, [paragraph]);
  });
  return text;
}

/** Connects clients in batches and waits until each has synced. */
async function connectAll(server: ServerUnderTest, docNames: string[], batch = 50, timeoutMs = 120_000): Promise<BenchClient[]> {
  const clients: BenchClient[] = [];
  const deadline = performance.now() + timeoutMs;
  try {
    for (let i = 0; i < docNames.length; i += batch) {
      const group = docNames.slice(i, i + batch).map((name) => server.connect(name));
      clients.push(...group);
      await withTimeout(Promise.all(group.map((c) => c.synced)), Math.max(1, deadline - performance.now()), `${server.label}: connecting ${docNames.length} clients`);
    }
  } catch (err) {
    for (const c of clients) c.destroy();
    throw err;
  }
  return clients;
}

/**
 * Waits (bounded) until the machine is idle, so one run's leftovers or another program do not
 * land in the next measurement; says so when it never got quiet.
 */
async function quietMachine(maxBusyCores = 0.3, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let busy = 0;
  do {
    const c0 = machineCpuSeconds();
    const t0 = performance.now();
    await sleep(1000);
    busy = (machineCpuSeconds() - c0) / ((performance.now() - t0) / 1000);
    if (busy < maxBusyCores) return;
  } while (performance.now() < deadline);
  console.log(`  (warning: the machine stayed busy, ${busy.toFixed(2)} cores, before this measurement; figures may be disturbed)`);
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : "n/a");
const ratio = (ours: number, theirs: number) => (theirs > 0 && Number.isFinite(ours) && Number.isFinite(theirs) ? `${(ours / theirs).toFixed(2)}x` : "n/a");
const int = (v: number) => Math.round(v).toLocaleString("en-US");
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => "  " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("   ")).join("\n");
}

// ---------------------------------------------------------------------------------------------
// The trace

interface Trace {
  patches: [number, number, string][][];
  endContent: string;
  /** The text after the patches used (all of them, or BENCH_TRACE_EDITS). */
  expected: string;
  /** Every update of a replay into one Y.Doc: the structure first, then one per patch. */
  updates: Uint8Array[];
  /** Y.encodeStateAsUpdate of that doc. */
  state: Uint8Array;
}

function loadTrace(): Trace {
  const raw = JSON.parse(zlib.gunzipSync(fs.readFileSync(TRACE_FILE)).toString("utf8")) as {
    endContent: string;
    txns: { patches: [number, number, string][] }[];
  };
  const limit = envNum("BENCH_TRACE_EDITS", raw.txns.length);
  const patches = raw.txns.slice(0, limit).map((t) => t.patches);
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on("update", (u: Uint8Array) => updates.push(u));
  const text = createText(doc);
  for (const p of patches) applyPatches(text, p);
  const expected = text.toString();
  if (patches.length === raw.txns.length && expected !== raw.endContent) throw new Error("the trace replayed into a Y.Doc does not give endContent");
  const state = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return { patches, endContent: raw.endContent, expected, updates, state };
}

function applyPatches(text: Y.XmlText, patches: [number, number, string][]): void {
  text.doc!.transact(() => {
    for (const [pos, del, ins] of patches) {
      if (del > 0) text.delete(pos, del);
      if (ins !== "") text.insert(pos, ins);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Edit propagation latency

interface Sender {
  clocks: number[];
  t0: number[];
  measured: boolean[];
  remaining: number[];
  worst: number[];
}

interface LatencyResult {
  label: string;
  path: string;
  sent: number;
  measuredEdits: number;
  ratePerClient: number;
  deliveries: ReturnType<typeof summary>;
  lastReceiver: ReturnType<typeof summary>;
  undelivered: number;
  cpu: string;
  inside: string | undefined;
}

async function latencyRun(server: ServerUnderTest, docCount: number, perDoc: number): Promise<LatencyResult> {
  const names: string[] = [];
  for (let i = 0; i < docCount; i++) names.push(await server.newDocument());
  const clients = await connectAll(server, names.flatMap((n) => Array.from({ length: perDoc }, () => n)));
  const timers: NodeJS.Timeout[] = [];
  try {
    const groups = names.map((_, i) => clients.slice(i * perDoc, (i + 1) * perDoc));
    const perDelivery: number[] = [];
    const perEdit: number[] = [];
    const allSenders: Sender[] = [];
    let sent = 0;

    for (const group of groups) {
      createText(group[0]!.doc);
      await waitFor(`${server.label}: paragraph reaching every client`, () => group.every((c) => textOf(c.doc) !== undefined), 20_000);
      const senders = new Map<number, Sender>();
      for (const c of group) {
        const s: Sender = { clocks: [], t0: [], measured: [], remaining: [], worst: [] };
        senders.set(c.doc.clientID, s);
        allSenders.push(s);
      }
      for (const c of group) {
        const self = c.doc.clientID;
        const progress = new Map<number, number>();
        c.doc.on("update", (update: Uint8Array, origin: unknown) => {
          if (origin === null || origin === undefined) return; // our own typing
          const now = performance.now();
          for (const [client, clockEnd] of Y.parseUpdateMeta(update).to) {
            if (client === self) continue;
            const s = senders.get(client);
            if (!s) continue;
            let i = progress.get(client) ?? 0;
            for (; i < s.clocks.length && s.clocks[i]! < clockEnd; i++) {
              const lat = now - s.t0[i]!;
              if (lat > s.worst[i]!) s.worst[i] = lat;
              s.remaining[i]!--;
              if (!s.measured[i]) continue;
              perDelivery.push(lat);
              if (s.remaining[i] === 0) perEdit.push(s.worst[i]!);
            }
            progress.set(client, i);
          }
        });
      }
    }

    // Every client types at 10 edits/s at its own cursor, with a random phase.
    const start = performance.now() + 100;
    const measureFrom = start + WARMUP_SECONDS * 1000;
    const end = measureFrom + LATENCY_SECONDS * 1000;
    const letters = "etaoin shrdlu";
    clients.forEach((c, idx) => {
      const text = textOf(c.doc)!;
      const me = c.doc.clientID;
      const mine = allSenders[idx]!;
      let cursor = Y.createRelativePositionFromTypeIndex(text, 0, -1);
      let typed = 0;
      const tick = () => {
        if (performance.now() >= end) return;
        const pos = Y.createAbsolutePositionFromRelativePosition(cursor, c.doc)?.index ?? text.length;
        const t0 = performance.now();
        text.insert(pos, letters[typed++ % letters.length]!);
        mine.clocks.push(Y.getState(c.doc.store, me) - 1);
        mine.t0.push(t0);
        mine.measured.push(t0 >= measureFrom);
        mine.remaining.push(perDoc - 1);
        mine.worst.push(0);
        sent++;
        // The cursor sticks to the character just typed, as a caret does.
        cursor = Y.createRelativePositionFromTypeIndex(text, pos + 1, -1);
      };
      const phase = Math.random() * (1000 / EDITS_PER_SECOND);
      timers.push(
        setTimeout(() => {
          tick();
          timers.push(setInterval(tick, 1000 / EDITS_PER_SECOND));
        }, start - performance.now() + phase),
      );
    });

    await sleep(measureFrom - performance.now());
    const meter = new CpuMeter(server.cpuProcesses());
    const internals = await server.internals?.();
    await sleep(end - performance.now());
    const cpu = meter.report();
    const inside = await internals?.();
    for (const t of timers) clearInterval(t);
    const undelivered = () => allSenders.reduce((n, s) => n + s.remaining.filter((r, i) => r > 0 && s.measured[i]).length, 0);
    await waitFor(`${server.label}: last edits arriving`, () => undelivered() === 0, 15_000, 50).catch(() => undefined);
    const measuredEdits = allSenders.reduce((n, s) => n + s.measured.filter(Boolean).length, 0);
    return {
      label: server.label,
      path: server.path,
      sent,
      measuredEdits,
      ratePerClient: measuredEdits / LATENCY_SECONDS / clients.length,
      deliveries: summary(perDelivery),
      lastReceiver: summary(perEdit),
      undelivered: undelivered(),
      cpu,
      inside,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    for (const c of clients) c.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. The trace, end to end

interface TraceResult {
  label: string;
  path: string;
  edits: number;
  /** Until the sender's last patch was handed to its socket. */
  sendSeconds: number;
  /** Until the receiver held the final text. */
  seconds: number;
  editsPerSecond: number;
  cpu: string;
  /** Highest RSS of the server's processes (sum) sampled during the replay. */
  peakRssBytes: number;
  docName: string;
}

const TRACE_TIMEOUT_MS = 300_000;

async function traceRun(server: ServerUnderTest, trace: Trace): Promise<TraceResult> {
  const docName = await server.newDocument();
  const [sender, receiver] = await connectAll(server, [docName, docName]);
  try {
    const text = createText(sender!.doc);
    await waitFor(`${server.label}: paragraph reaching the receiver`, () => textOf(receiver!.doc) !== undefined, 20_000);
    const received = textOf(receiver!.doc)!;
    const senderId = sender!.doc.clientID;
    let target = Number.POSITIVE_INFINITY;
    let finish: (t: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (finish = resolve));
    const check = () => {
      if (Y.getState(receiver!.doc.store, senderId) >= target && received.length === trace.expected.length && received.toString() === trace.expected) finish(performance.now());
    };
    receiver!.doc.on("update", check);

    // Pipelined: hand patches to the socket in chunks, yield to I/O after each, and wait only
    // while the socket holds more than HIGH bytes the kernel has not taken (the server is not reading).
    const CHUNK = 256;
    const HIGH = 1 << 20;
    const LOW = 256 << 10;
    const meter = new CpuMeter(server.cpuProcesses());
    let peakRssBytes = 0;
    const sampleRss = () => {
      peakRssBytes = Math.max(peakRssBytes, server.memoryProcesses().reduce((sum, p) => sum + rssBytes(p.pid), 0));
    };
    const rssTimer = setInterval(sampleRss, 250);
    const t0 = performance.now();
    const deadline = t0 + TRACE_TIMEOUT_MS;
    let i = 0;
    while (i < trace.patches.length) {
      if (performance.now() > deadline) throw new Error(`${server.label}: trace replay did not finish in ${TRACE_TIMEOUT_MS} ms (${i} sent)`);
      const stop = Math.min(trace.patches.length, i + CHUNK);
      for (; i < stop; i++) applyPatches(text, trace.patches[i]!);
      if (sender!.bufferedAmount() > HIGH) {
        while (sender!.bufferedAmount() > LOW && performance.now() < deadline) await sleep(1);
      } else {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const tSent = performance.now();
    target = Y.getState(sender!.doc.store, senderId);
    check();
    const tDone = await withTimeout(done, Math.max(1, deadline - performance.now()), `${server.label}: receiver holding the final text`).finally(() => clearInterval(rssTimer));
    sampleRss();
    const cpu = meter.report();
    if (text.toString() !== trace.expected) throw new Error(`${server.label}: the sender's text differs from the trace's`);
    const seconds = (tDone - t0) / 1000;
    return {
      label: server.label,
      path: server.path,
      edits: trace.patches.length,
      sendSeconds: (tSent - t0) / 1000,
      seconds,
      editsPerSecond: trace.patches.length / seconds,
      cpu,
      peakRssBytes,
      docName,
    };
  } finally {
    sender!.destroy();
    receiver!.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Memory per idle connection

interface MemoryResult {
  label: string;
  path: string;
  processes: string;
  connections: number;
  docs: number;
  before: number;
  after: number;
  perConnection: number;
  extra: string;
}

/** Median of three readings a second apart, per process, summed. */
async function settledRss(procs: ServedProcess[]): Promise<{ total: number; each: Map<string, number> }> {
  const readings: Map<string, number[]> = new Map(procs.map((p) => [p.name, []]));
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(1000);
    for (const p of procs) readings.get(p.name)!.push(rssBytes(p.pid));
  }
  const each = new Map([...readings].map(([name, v]) => [name, [...v].sort((a, b) => a - b)[1]!]));
  return { total: [...each.values()].reduce((a, b) => a + b, 0), each };
}

async function memoryRun(server: ServerUnderTest, extra: ServedProcess[] = []): Promise<MemoryResult> {
  const docCount = Math.max(1, Math.round(IDLE_CONNECTIONS / 10));
  const names: string[] = [];
  for (let i = 0; i < docCount; i++) names.push(await server.newDocument());
  const procs = server.memoryProcesses();
  await sleep(2000);
  const before = await settledRss([...procs, ...extra]);
  const targets = Array.from({ length: IDLE_CONNECTIONS }, (_, i) => names[i % docCount]!);
  const clients = await connectAll(server, targets);
  try {
    await waitFor(`${server.label}: server counting ${IDLE_CONNECTIONS} connections`, async () => (await server.connections()) >= IDLE_CONNECTIONS, 30_000, 200);
    await sleep(3000);
    const after = await settledRss([...procs, ...extra]);
    const sum = (r: typeof before) => procs.reduce((a, p) => a + r.each.get(p.name)!, 0);
    const delta = (name: string) => after.each.get(name)! - before.each.get(name)!;
    return {
      label: server.label,
      path: server.path,
      processes: procs.map((p) => p.name).join(" + "),
      connections: IDLE_CONNECTIONS,
      docs: docCount,
      before: sum(before),
      after: sum(after),
      perConnection: (sum(after) - sum(before)) / IDLE_CONNECTIONS,
      extra: [...procs, ...extra].map((p) => `${p.name} ${mib(before.each.get(p.name)!)} -> ${mib(after.each.get(p.name)!)} (${delta(p.name) >= 0 ? "+" : ""}${mib(delta(p.name))})`).join(", "),
    };
  } finally {
    for (const c of clients) c.destroy();
    await waitFor(`${server.label}: connections closing`, async () => (await server.connections()) === 0, 30_000, 200).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Opening a document whose history is the whole trace

interface OpenTimes {
  label: string;
  what: string;
  times: number[];
}

/** A fresh client connects; time until its provider reports synced. Verifies the text afterwards. */
async function timedOpen(server: ServerUnderTest, docName: string, expected: string): Promise<number> {
  const t0 = performance.now();
  const c = server.connect(docName);
  try {
    await withTimeout(c.synced, 120_000, `${server.label}: opening the trace document`);
    const t = performance.now() - t0;
    const got = textOf(c.doc)?.toString();
    if (got !== expected) throw new Error(`${server.label}: opened document has ${got?.length ?? "no"} characters, expected ${expected.length}`);
    return t;
  } finally {
    c.destroy();
  }
}

async function waitUnloaded(server: ServerUnderTest): Promise<void> {
  await waitFor(`${server.label}: documents unloading`, async () => (await server.openDocuments()) === 0, 30_000, 100);
}

// ---------------------------------------------------------------------------------------------
// Our system's extras: the EDITS stream and the history projection

/** The headers the sync service puts on each stored edit. */
function editHeaders(author: string, client: string): ReturnType<typeof natsHeaders> {
  const h = natsHeaders();
  writeEditHeaders(h, { author, client, replica: "bench" });
  return h;
}

class Stream {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly db: pg.Client,
  ) {}

  static async open(bench: BenchSystem): Promise<Stream> {
    const nc = await natsConnect(natsOptionsFromEnv(bench.stores.env));
    const db = new pg.Client({ connectionString: bench.stores.databaseUrl });
    await db.connect();
    return new Stream(nc, await jetstreamManager(nc), db);
  }

  async eventsOf(docId: string): Promise<number> {
    const subject = subjects.edits(docId);
    const info = await this.jsm.streams.info(Streams.edits, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  /**
   * The floor under our path: JetStream alone, publish -> delivery through an ordered consumer per
   * subject, with the sync service's headers and message ids, timed like the latency run's typists
   * (one subject per document, each publisher 10 times a second from its own phase), in this
   * process with nothing else typing. A separate, file-backed stream, deleted afterwards.
   */
  async floor(docs: number, perDoc: number): Promise<{ publishToAck: ReturnType<typeof summary>; publishToDelivery: ReturnType<typeof summary> }> {
    const js = jetstream(this.nc);
    const name = `BENCH_FLOOR_${Date.now()}`;
    await this.jsm.streams.add({ name, subjects: [`${name}.>`], duplicate_window: 120_000_000_000 });
    const sentAt = new Map<string, number>();
    const acks: number[] = [];
    const deliveries: number[] = [];
    const feeds: { stop(): void }[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      for (let d = 0; d < docs; d++) {
        const consumer = await js.consumers.get(name, { filter_subjects: `${name}.d${d}` });
        const messages = await consumer.consume({ max_messages: 1_000 });
        feeds.push(messages);
        void (async () => {
          for await (const m of messages) {
            const t0 = sentAt.get(m.headers?.get("Nats-Msg-Id") ?? "");
            if (t0 !== undefined) deliveries.push(performance.now() - t0);
          }
        })();
      }
      const start = performance.now() + 100;
      const measureFrom = start + WARMUP_SECONDS * 1000;
      const end = measureFrom + LATENCY_SECONDS * 1000;
      let n = 0;
      for (let c = 0; c < docs * perDoc; c++) {
        const subject = `${name}.d${c % docs}`;
        const tick = () => {
          if (performance.now() >= end) return;
          const update = new Uint8Array(16).fill(n % 251);
          const msgID = createHash("sha256").update(subject).update(":").update(String(++n)).digest("base64url");
          const h = editHeaders("bench", `client-${c}`);
          const t0 = performance.now();
          const measured = t0 >= measureFrom;
          if (measured) sentAt.set(msgID, t0);
          void js.publish(subject, update, { msgID, headers: h }).then(() => {
            if (measured) acks.push(performance.now() - t0);
          });
        };
        timers.push(setTimeout(() => {
          tick();
          timers.push(setInterval(tick, 1000 / EDITS_PER_SECOND));
        }, start - performance.now() + Math.random() * (1000 / EDITS_PER_SECOND)));
      }
      await sleep(end - performance.now());
      for (const t of timers) clearInterval(t);
      await waitFor("floor: last deliveries", () => deliveries.length >= sentAt.size, 10_000, 20).catch(() => undefined);
      return { publishToAck: summary(acks), publishToDelivery: summary(deliveries) };
    } finally {
      for (const t of timers) clearInterval(t);
      for (const f of feeds) f.stop();
      await this.jsm.streams.delete(name).catch(() => undefined);
    }
  }

  /** Appends the updates as the sync service does (one event each, same headers and message id), pipelined. */
  async append(docId: string, author: string, updates: Uint8Array[]): Promise<void> {
    const js = jetstream(this.nc);
    const inFlight = new Set<Promise<unknown>>();
    const deadline = performance.now() + 300_000;
    for (const u of updates) {
      if (performance.now() > deadline) throw new Error("appending the trace to JetStream took too long");
      const h = editHeaders(author, "bench-import");
      const p = js.publish(subjects.edits(docId), u, { msgID: editMessageId(docId, u), headers: h, timeout: 30_000 });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => undefined);
      if (inFlight.size >= 512) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  /** Waits until the history service has projected every stored edit (so it does not compete with the next measurement). */
  async historyCaughtUp(timeoutMs = 180_000): Promise<number> {
    const t0 = performance.now();
    if (STOP_HISTORY) return 0;
    const last = (await this.jsm.streams.info(Streams.edits)).state.last_seq;
    await waitFor(
      "history projection catching up",
      async () => {
        const r = await this.db.query<{ stream_seq: string }>("select stream_seq from history.projection_checkpoints where name = 'edit-log'");
        return Number(r.rows[0]?.stream_seq ?? 0) >= last;
      },
      timeoutMs,
      250,
    );
    return (performance.now() - t0) / 1000;
  }

  async close(): Promise<void> {
    await this.db.end();
    await this.nc.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Main

const parts = selectedParts();
console.log(`machine: ${machine()}; load average at start ${fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
console.log(`parts: ${parts.join(", ")}${DIRECT ? " (+ direct-to-sync runs)" : ""}${STOP_HISTORY ? "; OUR HISTORY SERVICE STOPPED (diagnosis)" : ""}`);

const bench = await startBenchSystem({
  gateways: GATEWAYS,
  syncReplicas: SYNC_REPLICAS,
  env: {
    // The sync service's budgets are left at their shipped defaults: a replayed trace is what a
    // fast legitimate client does, and it must run at pipeline speed under them.
    // Unload documents soon after their last client leaves, so "open" measures a cold load.
    SYNC_IDLE_UNLOAD_MS: "500",
    ACCESS_TOKEN_TTL_SECONDS: "7200",
  },
});
const hocusLogs = path.join(bench.dataDir, "logs");
const hocusStateDir = path.join(bench.dataDir, "hocuspocus-state");
fs.mkdirSync(hocusStateDir, { recursive: true });
const started: HocuspocusProcess[] = [];
let stream: Stream | undefined;
try {
  const hocus = await startHocuspocus({ logDir: hocusLogs, name: "hocuspocus" });
  started.push(hocus);
  stream = await Stream.open(bench);
  const base = bench.system.gatewayUrl();
  const { api, auth } = await new TestApi(base).newUser("Bench");
  if (STOP_HISTORY) await bench.system.byName("history")[0]?.process.stop();
  const proc = (name: "gateway" | "sync" | "history" | "docs" | "auth" | "files") => {
    const h = bench.system.byName(name)[0];
    if (!h?.process.pid) throw new Error(`no ${name} process`);
    return { name, pid: h.process.pid };
  };
  /** Every replica of a service, named apart when there are several. */
  const procs = (name: "gateway" | "sync"): ServedProcess[] => {
    const all = bench.system.byName(name);
    return all.map((h, i) => {
      if (!h.process.pid) throw new Error(`no ${name} process`);
      return { name: all.length === 1 ? name : `${name}-${i + 1}`, pid: h.process.pid };
    });
  };
  const natsProc = bench.stores.processes.find((p) => p.options.name.includes("nats"));
  const nats: ServedProcess[] = natsProc?.pid ? [{ name: "nats", pid: natsProc.pid }] : [];
  const pgProc = bench.stores.processes.find((p) => p.options.name.includes("postgres"));
  const postgres: ServedProcess[] = pgProc?.pid ? [{ name: "postgres", pid: pgProc.pid, tree: true }] : [];
  const syncPort = bench.system.byName("sync")[0]!.port;
  const syncMetrics = { sync: `http://127.0.0.1:${syncPort}/metrics` };
  const redisProc = bench.stores.processes.find((p) => p.options.name.includes("redis"));
  const redis: ServedProcess[] = redisProc?.pid ? [{ name: "redis", pid: redisProc.pid }] : [];
  const history = () => (STOP_HISTORY ? [] : [proc("history"), ...postgres]);
  // Every server process an edit can cost CPU in: the services that follow EDITS, the stores they write.
  const others = () => [proc("docs"), proc("auth"), proc("files"), ...redis];
  const cpuOurs = () => [...procs("gateway"), ...procs("sync"), ...nats, ...history(), ...others()];
  // Clients connect as many users, each within the per-user /collab caps at their defaults.
  const identities = new BenchIdentities(api);
  const ours = palimpsestServer({
    label: "Palimpsest",
    path: "y-websocket -> gateway -> sync -> JetStream (ack) -> sync -> gateway -> y-websocket",
    api,
    identities,
    collabUrl: Array.from({ length: GATEWAYS }, (_, i) => `${bench.system.gatewayUrl(i).replace(/^http/, "ws")}/collab`),
    memory: () => [...procs("gateway"), ...procs("sync")],
    cpu: cpuOurs,
    metricsUrls: syncMetrics,
  });
  const oursDirect = palimpsestServer({
    label: "Palimpsest direct",
    path: "y-websocket -> sync -> JetStream (ack) -> sync -> y-websocket (no gateway)",
    api,
    identities,
    collabUrl: `ws://127.0.0.1:${syncPort}/collab`,
    memory: () => [proc("sync")],
    cpu: () => [proc("sync"), ...nats, ...history(), ...others()],
    metricsUrls: syncMetrics,
  });
  const theirs = hocuspocusServer("Hocuspocus", hocus);
  const oursRuns = DIRECT ? [ours, oursDirect] : [ours];
  const quiet = async () => {
    await stream!.historyCaughtUp();
    await quietMachine();
  };
  console.log(`\nours: ${ours.path}`);
  if (DIRECT) console.log(`ours direct: ${oursDirect.path}`);
  console.log(`theirs: ${theirs.path}, @hocuspocus/server 3.4.4 / @hocuspocus/provider 3.4.4; our clients: y-websocket 3.0.0; yjs 13.6.33 on both`);
  console.log(`text: a Y.XmlText in a paragraph of the XmlFragment "default" on both`);

  if (parts.includes("memory")) {
    console.log(`\n== 3. Server memory per idle connection: ${IDLE_CONNECTIONS} idle connections over ${Math.max(1, Math.round(IDLE_CONNECTIONS / 10))} documents (10 each, empty), RSS vs none`);
    await quiet();
    const a = await memoryRun(ours, nats);
    await quiet();
    const b = await memoryRun(theirs);
    for (const r of [a, b]) console.log(`  ${r.label}: ${r.extra}`);
    console.log(
      table([
        ["", "Palimpsest", "Hocuspocus", "ours/theirs"],
        ["processes summed", a.processes, b.processes, ""],
        ["RSS, no connections", mib(a.before), mib(b.before), ""],
        [`RSS, ${IDLE_CONNECTIONS} idle connections`, mib(a.after), mib(b.after), ""],
        ["per idle connection", `${(a.perConnection / 1024).toFixed(1)} KiB`, `${(b.perConnection / 1024).toFixed(1)} KiB`, ratio(a.perConnection, b.perConnection)],
      ]),
    );
  }

  if (parts.includes("latency")) {
    for (const [docs, perDoc] of LATENCY_SCENARIOS) {
      console.log(`\n== 1. Edit propagation latency: ${docs} doc(s) x ${perDoc} clients, each typing ${EDITS_PER_SECOND} edits/s; ${WARMUP_SECONDS} s warm-up, ${LATENCY_SECONDS} s measured`);
      const results: LatencyResult[] = [];
      for (const s of [...oursRuns, theirs]) {
        await quiet();
        results.push(await latencyRun(s, docs, perDoc));
      }
      const h = results[results.length - 1]!;
      const rows: string[][] = [["", ...results.map((r) => r.label), ...results.slice(0, -1).map((r) => `${r.label}/HP`)]];
      const row = (name: string, get: (r: LatencyResult) => number, fmt: (v: number) => string, withRatio = true) =>
        rows.push([name, ...results.map((r) => fmt(get(r))), ...results.slice(0, -1).map((r) => (withRatio ? ratio(get(r), get(h)) : ""))]);
      row("every delivery p50", (r) => r.deliveries.p50, ms);
      row("every delivery p90", (r) => r.deliveries.p90, ms);
      row("every delivery p99", (r) => r.deliveries.p99, ms);
      row("last receiver p50", (r) => r.lastReceiver.p50, ms);
      row("last receiver p99", (r) => r.lastReceiver.p99, ms);
      row("edits measured", (r) => r.measuredEdits, int, false);
      row("deliveries measured", (r) => r.deliveries.n, int, false);
      row("edits/s per client", (r) => r.ratePerClient, (v) => v.toFixed(2), false);
      row("measured edits not delivered", (r) => r.undelivered, int, false);
      console.log(table(rows));
      for (const r of results) console.log(`  ${r.label}: ${r.cpu}${r.inside ? `\n  ${r.label}: ${r.inside}` : ""}`);
      await quiet();
      const floor = await stream.floor(docs, perDoc);
      console.log(
        `  JetStream alone at the same rate (${docs} subject(s), ${docs * perDoc} publishers at ${EDITS_PER_SECOND}/s, an ordered consumer per subject, nothing else typing): ` +
          `publish -> delivery p50 ${ms(floor.publishToDelivery.p50)}, p99 ${ms(floor.publishToDelivery.p99)}; publish -> ack p50 ${ms(floor.publishToAck.p50)}, p99 ${ms(floor.publishToAck.p99)}` +
          ` (${int(floor.publishToDelivery.n)} measured)`,
      );
    }
  }

  if (parts.includes("scale")) {
    console.log(`\n== 5. Documents at scale: ${int(SCALE_DOCS)} documents open at once, one client each; ${SCALE_IDLE_SECONDS} s idle, then 1% typing 10 edits/s for ${SCALE_TYPING_SECONDS} s`);
    const monitor = bench.stores.nats?.nodes[0]?.monitorPort;
    const consumers = async () => ((await (await fetch(`http://127.0.0.1:${monitor}/jsz`)).json()) as { consumers: number }).consumers;
    const runs: ScaleResult[] = [];
    for (const [s, processes, count] of [
      [ours, cpuOurs(), consumers],
      [theirs, theirs.cpuProcesses(), undefined],
    ] as const) {
      await quiet();
      const openInternals = async () => {
        const name = "sync_document_load_seconds";
        const before = await histogram(syncMetrics.sync, name);
        return async () => {
          const after = await histogram(syncMetrics.sync, name);
          return `the sync service's document loads (snapshot, stream position, consumer, catching up) p50 ${quantileBound(before, after, 0.5)}, p99 ${quantileBound(before, after, 0.99)}`;
        };
      };
      runs.push(
        await scaleRun(s, {
          documents: SCALE_DOCS,
          idleSeconds: SCALE_IDLE_SECONDS,
          typingSeconds: SCALE_TYPING_SECONDS,
          processes,
          ...(count ? { consumers: count, openInternals } : {}),
        }),
      );
    }
    for (const r of runs) {
      const grown = [...r.rssAfter].map(([name, after]) => `${name} ${mib(r.rssBefore.get(name)!)} -> ${mib(after)}`).join(", ");
      const perDoc = [...r.rssAfter].reduce((a, [name, after]) => a + after - r.rssBefore.get(name)!, 0) / r.documents;
      console.log(`  ${r.label}: cold open (after the set-up settled in ${r.settledAfterSeconds.toFixed(1)} s) p50 ${ms(r.openMs.p50)}, p99 ${ms(r.openMs.p99)}; RSS ${grown}; ${(perDoc / 1024).toFixed(1)} KiB per open document (all processes)`);
      if (r.consumers) console.log(`  ${r.label}: JetStream consumers on nats-server ${int(r.consumers.before)} before, ${int(r.consumers.after)} with every document open`);
      console.log(`  ${r.label}, opening: ${r.openCpu}; ${r.openCpuMsEach.toFixed(2)} ms of server CPU per open`);
      if (r.openedInside) console.log(`  ${r.label}: ${r.openedInside}`);
      console.log(`  ${r.label}, idle: ${r.idleCpu}`);
      console.log(`  ${r.label}, 1% typing (${int(r.typingEdits)} edits): ${r.typingCpu}`);
    }
    const [a, b] = runs as [ScaleResult, ScaleResult];
    console.log(
      table([
        ["", "Palimpsest", "Hocuspocus", "ours/theirs"],
        ["cold open p50", ms(a.openMs.p50), ms(b.openMs.p50), ratio(a.openMs.p50, b.openMs.p50)],
        ["cold open p99", ms(a.openMs.p99), ms(b.openMs.p99), ratio(a.openMs.p99, b.openMs.p99)],
        ["server CPU per open", `${a.openCpuMsEach.toFixed(2)} ms`, `${b.openCpuMsEach.toFixed(2)} ms`, ratio(a.openCpuMsEach, b.openCpuMsEach)],
        ["idle CPU, all processes (cores)", a.idleCores.toFixed(3), b.idleCores.toFixed(3), ratio(a.idleCores, b.idleCores)],
      ]),
    );
  }

  if (parts.includes("connections")) {
    if (SYNC_REPLICAS < 2) throw new Error("the connections part kills a sync replica: run it with BENCH_SYNC_REPLICAS=2 or more");
    const docs = Math.ceil(CONNECTIONS / CONNECTIONS_PER_DOC);
    console.log(
      `\n== 6. Connections at scale: ${int(CONNECTIONS)} idle /collab clients (${CONNECTIONS_PER_DOC} per document) through ${GATEWAYS} gateway(s) to ${SYNC_REPLICAS} sync replicas; ` +
        `${CONNECTIONS_IDLE_SECONDS} s idle; then a sync replica killed`,
    );
    const urls = Array.from({ length: GATEWAYS }, (_, i) => `${bench.system.gatewayUrl(i).replace(/^http/, "ws")}/collab`);
    const docIds: string[] = [];
    for (let i = 0; i < docs; i += 20) docIds.push(...(await Promise.all(Array.from({ length: Math.min(20, docs - i) }, () => ours.newDocument()))));
    // A document's clients one after another, so each bench user holds few documents (and few shares are made).
    const oursClients: WorkerClient[] = [];
    for (let i = 0; i < CONNECTIONS; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, CONNECTIONS - i) }, async (_, k) => {
          const j = i + k;
          const room = docIds[Math.floor(j / CONNECTIONS_PER_DOC)]!;
          oursClients[j] = { kind: "ours", url: urls[j % urls.length]!, room, token: await identities.tokenFor(room) };
        }),
      );
    }
    const syncPorts = bench.system.byName("sync").map((h) => h.port);
    const syncConnections = async (port: number) => metricValue(`http://127.0.0.1:${port}/metrics`, "sync_connections").catch(() => 0);
    const results: ConnectionsResult[] = [];
    results.push(
      await connectionsRun({
        label: "Palimpsest",
        clients: oursClients,
        memory: [...procs("gateway"), ...procs("sync"), ...nats],
        cpu: cpuOurs(),
        idleSeconds: CONNECTIONS_IDLE_SECONDS,
        counted: (n) => waitFor(`ours: ${n} connections counted`, async () => (await Promise.all(syncPorts.map(syncConnections))).reduce((a, b) => a + b, 0) >= n, 120_000, 500),
        fail: async () => {
          const victim = bench.system.byName("sync")[0]!;
          const held = await syncConnections(victim.port);
          await victim.process.kill();
          return `sync-${victim.instance} killed (SIGKILL) holding ${int(held)} of the connections; the gateways send its clients to the others`;
        },
        recoveryBoundSeconds: 180,
        progress: async () => {
          const read = async (name: string, port: number) => {
            // A process too busy to answer within a second says so instead of holding up the count.
            const value = (metric: string) => metricValue(`http://127.0.0.1:${port}/metrics`, metric, 1000).catch(() => Number.NaN);
            const lag = `loop p99 ${((await value("nodejs_eventloop_lag_p99_seconds")) * 1000).toFixed(0)} ms`;
            return name.startsWith("sync") ? `${name} ${lag}, ${await value("sync_connections")} conns, ${await value("sync_opens_shed_total")} shed` : `${name} ${lag}`;
          };
          const live = [...bench.system.byName("gateway"), ...bench.system.byName("sync")].filter((h) => h.process.running);
          return (await Promise.all(live.map((h) => read(`${h.name}-${h.instance}`, h.metricsPort)))).join("; ");
        },
      }),
    );
    await bench.system.start();

    const peerCount = Math.min(CONNECTIONS, HOCUSPOCUS_MAX_CONNECTIONS);
    const peer = await startHocuspocus({ logDir: hocusLogs, name: "hocuspocus-connections" });
    started.push(peer);
    const peerProcess = [{ name: "hocuspocus", pid: peer.process.pid ?? 0 }];
    results.push(
      await connectionsRun({
        label: "Hocuspocus",
        clients: Array.from({ length: peerCount }, (_, j) => ({ kind: "hocuspocus", url: peer.url, room: `connections-${Math.floor(j / CONNECTIONS_PER_DOC)}-${process.pid}` })),
        memory: peerProcess,
        cpu: peerProcess,
        idleSeconds: CONNECTIONS_IDLE_SECONDS,
        counted: (n) => waitFor(`hocuspocus: ${n} connections counted`, async () => (await peer.stats()).connections >= n, 120_000, 500),
        fail: async () => {
          await peer.process.kill();
          started.push(await startHocuspocus({ logDir: hocusLogs, name: "hocuspocus-connections-again", port: peer.port }));
          return "its process killed (SIGKILL) and started again on the same port (it has no other replica to move to)";
        },
        recoveryBoundSeconds: 180,
      }),
    );
    for (const r of results) {
      const each = [...r.perConnection].map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)}`).join(" + ");
      console.log(`  ${r.label}: ${int(r.connections)} clients opened in ${r.openSeconds.toFixed(1)} s (${int(r.notSynced)} not synced within 60 s); RSS per connection ${each} = ${(r.perConnectionTotal / 1024).toFixed(1)} KiB`);
      console.log(`  ${r.label}, idle: ${r.idleCpu}`);
      console.log(
        `  ${r.label}, ${r.failure}: ${int(r.connections - r.fewestSynced)} clients lost their connection at once at most; ` +
          (r.recoveredSeconds !== undefined ? `all ${int(r.connections)} synced again ${r.recoveredSeconds.toFixed(1)} s after the kill` : `only ${int(r.syncedAtEnd)} synced again within the bound`) +
          `; close codes the clients saw meanwhile: ${r.closesAfterKill || "none"}`,
      );
    }
    const [a, b] = results as [ConnectionsResult, ConnectionsResult];
    const secs = (v: number | undefined) => (v === undefined ? "n/a" : `${v.toFixed(1)} s`);
    console.log(
      table([
        ["", "Palimpsest", "Hocuspocus", "ours/theirs"],
        ["idle connections", int(a.connections), int(b.connections), ""],
        ["time to open them all", secs(a.openSeconds), secs(b.openSeconds), ratio(a.openSeconds, b.openSeconds)],
        ["server RSS per connection", `${(a.perConnectionTotal / 1024).toFixed(1)} KiB`, `${(b.perConnectionTotal / 1024).toFixed(1)} KiB`, ratio(a.perConnectionTotal, b.perConnectionTotal)],
        ["clients cut off by the kill", int(a.connections - a.fewestSynced), int(b.connections - b.fewestSynced), ""],
        ["kill -> every client synced again", secs(a.recoveredSeconds), secs(b.recoveredSeconds), a.recoveredSeconds !== undefined && b.recoveredSeconds !== undefined ? ratio(a.recoveredSeconds, b.recoveredSeconds) : "n/a"],
      ]),
    );
  }

  let trace: Trace | undefined;
  const traceResults: TraceResult[] = [];
  if (parts.includes("trace") || parts.includes("open")) trace = loadTrace();
  if (parts.includes("trace") && trace) {
    console.log(`\n== 2. Trace replay: automerge-paper, ${int(trace.patches.length)} edits, each its own update, pipelined from one client until a second client holds the final text`);
    for (const s of [...oursRuns, theirs]) {
      await quiet();
      const r = await traceRun(s, trace);
      traceResults.push(r);
      if (s !== theirs) {
        const lag = await stream.historyCaughtUp();
        const events = await stream.eventsOf(r.docName);
        console.log(
          `  (${s.label}: the sync service stored the ${int(r.edits)} updates as ${int(events - 1)} events + 1 for the paragraph` +
            `${STOP_HISTORY ? "" : `; the history service had projected them ${lag.toFixed(1)} s after the receiver had the text`})`,
        );
      }
    }
    const h = traceResults[traceResults.length - 1]!;
    const rows: string[][] = [["", ...traceResults.map((r) => r.label), ...traceResults.slice(0, -1).map((r) => `${r.label}/HP`)]];
    rows.push(["edits/s end to end", ...traceResults.map((r) => int(r.editsPerSecond)), ...traceResults.slice(0, -1).map((r) => ratio(r.editsPerSecond, h.editsPerSecond))]);
    rows.push(["seconds until the receiver had it", ...traceResults.map((r) => r.seconds.toFixed(2)), ...traceResults.slice(0, -1).map(() => "")]);
    rows.push(["seconds until the sender had sent it", ...traceResults.map((r) => r.sendSeconds.toFixed(2)), ...traceResults.slice(0, -1).map(() => "")]);
    rows.push(["peak server RSS (MB)", ...traceResults.map((r) => (r.peakRssBytes / 1e6).toFixed(0)), ...traceResults.slice(0, -1).map(() => "")]);
    console.log(table(rows));
    for (const r of traceResults) console.log(`  ${r.label}: ${r.cpu}`);
    console.log(`  final text verified on the receiver: ${int(trace.expected.length)} characters${trace.expected === trace.endContent ? ", equal to endContent" : ""}`);
  }

  if (parts.includes("open") && trace) {
    console.log(`\n== 4. Opening a document whose history is the whole trace (${int(trace.patches.length)} edits); ${OPEN_RUNS} runs each, fresh client connect -> provider synced -> text verified`);
    // Ours: one event per update in JetStream, appended here as the sync service appends them (the
    // replay of part 2 is stored as far fewer events, because the sync service merges what a fast
    // client sends while an append is in flight).
    const docId = await ours.newDocument();
    const t = performance.now();
    await stream.append(docId, auth.user.id, trace.updates);
    const appendSeconds = (performance.now() - t) / 1000;
    const events = await stream.eventsOf(docId);
    const lag = await stream.historyCaughtUp();
    console.log(
      `  ours: ${int(events)} events in EDITS (1 structure + ${int(trace.patches.length)} edits) appended directly to JetStream in ${appendSeconds.toFixed(1)} s, one per update, with the sync service's headers and message id` +
        `${STOP_HISTORY ? "" : `; the history service had projected them ${lag.toFixed(1)} s later`}`,
    );
    const snapshotLoads = () => metricValue(syncMetrics.sync, "sync_snapshot_loads_total").catch(() => Number.NaN);
    const coldRuns = async (id: string) => {
      const out: number[] = [];
      for (let i = 0; i < OPEN_RUNS; i++) {
        await waitUnloaded(ours);
        out.push(await timedOpen(ours, id, trace.expected));
      }
      await waitUnloaded(ours);
      return out;
    };
    const results: OpenTimes[] = [];
    await waitUnloaded(ours);
    await quiet();
    const s0 = await snapshotLoads();
    const cold = await coldRuns(docId);
    const fromSnapshot = (await snapshotLoads()) - s0;
    const coldHow = Number.isNaN(fromSnapshot)
      ? "every event replayed (this build loads no snapshots)"
      : fromSnapshot === 0
        ? "no snapshot found, every event replayed"
        : `snapshot + events after it (${fromSnapshot}/${OPEN_RUNS} opens used one)`;
    results.push({ label: "Palimpsest", what: `cold, as opened today: ${coldHow}`, times: cold });
    let full: number[] | undefined;
    if (fromSnapshot > 0 && !STOP_HISTORY) {
      // With the history service stopped the sync service finds no snapshot and replays the whole log.
      await bench.system.byName("history")[0]!.process.stop();
      await quietMachine();
      const s1 = await snapshotLoads();
      full = await coldRuns(docId);
      const used = (await snapshotLoads()) - s1;
      await bench.system.start();
      results.push({ label: "Palimpsest", what: `cold, history stopped: all ${int(events)} events replayed${used > 0 ? ` (but ${used} opens used a snapshot)` : ""}`, times: full });
    }
    await quiet();
    const holder = ours.connect(docId);
    await withTimeout(holder.synced, 120_000, "ours: holder opening the trace document");
    const warm: number[] = [];
    for (let i = 0; i < OPEN_RUNS; i++) warm.push(await timedOpen(ours, docId, trace.expected));
    holder.destroy();
    results.push({ label: "Palimpsest", what: "warm: open on the sync service (another client holds it)", times: warm });

    // Hocuspocus: its document is its Y.Doc in memory; persisted, it is a state blob (what its
    // database extension stores), never a history. Warm: a client that holds the trace's state
    // pushes it to the in-memory server and stays; cold: a second Hocuspocus process loads the
    // same state from a file in onLoadDocument.
    await quiet();
    const name = await theirs.newDocument();
    const feeder = theirs.connect(name);
    await withTimeout(feeder.synced, 30_000, "hocuspocus: holder connecting");
    Y.applyUpdate(feeder.doc, trace.state);
    await timedOpen(theirs, name, trace.expected); // untimed check that the server has it
    const hWarm: number[] = [];
    for (let i = 0; i < OPEN_RUNS; i++) hWarm.push(await timedOpen(theirs, name, trace.expected));
    feeder.destroy();
    results.push({ label: "Hocuspocus", what: "warm: in memory (another client holds it)", times: hWarm });

    const persisted = await startHocuspocus({ logDir: hocusLogs, name: "hocuspocus-persisted", stateDir: hocusStateDir });
    started.push(persisted);
    const theirsPersisted = hocuspocusServer("Hocuspocus (state file)", persisted);
    const pname = await theirsPersisted.newDocument();
    fs.writeFileSync(path.join(hocusStateDir, `${encodeURIComponent(pname)}.ystate`), trace.state);
    const hCold: number[] = [];
    for (let i = 0; i < OPEN_RUNS; i++) {
      await waitUnloaded(theirsPersisted);
      hCold.push(await timedOpen(theirsPersisted, pname, trace.expected));
    }
    await persisted.stop();
    started.splice(started.indexOf(persisted), 1);
    results.push({ label: "Hocuspocus", what: `cold: onLoadDocument applies a ${int(trace.state.length)} B state file`, times: hCold });

    const med = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;
    console.log(table([["", "median", "runs"], ...results.map((r) => [`${r.label}, ${r.what}`, ms(med(r.times)), r.times.map((v) => v.toFixed(1)).join(" / ")])]));
    console.log(
      `  ours/Hocuspocus: cold ${ratio(med(cold), med(hCold))}${full ? `; cold with every event replayed ${ratio(med(full), med(hCold))}` : ""}; warm ${ratio(med(warm), med(hWarm))}`,
    );
  }
} finally {
  await stream?.close().catch(() => undefined);
  for (const h of started) await h.stop();
  await bench.stop();
}
