/**
 * What bench/sync.ts needs to drive two servers with one workload: a "server under test" that
 * makes documents and connects clients (our system through the y-websocket provider, or a
 * Hocuspocus server through its own provider), the Hocuspocus child process, and /proc readings
 * (RSS, CPU) of the processes behind each server.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import * as Y from "yjs";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import { ManagedProcess, freePort, waitUntil, type TestApi } from "@palimpsest/devkit";
import { CloseCodes } from "@palimpsest/contracts";
import { RATE_LIMIT_RETRY_MS } from "../web/src/collab/reconnect.ts";

/** One connected client as the workload sees it: a Y.Doc kept in sync by some provider. */
export interface BenchClient {
  doc: Y.Doc;
  /** Resolves once the server's state has arrived (the provider's own "synced"). */
  synced: Promise<void>;
  /** Bytes the client's socket has not yet handed to the kernel. */
  bufferedAmount(): number;
  /** Connected and holding the server's state now: false from a lost connection until the provider has reconnected and synced again. */
  isSynced(): boolean;
  destroy(): void;
}

export interface ServedProcess {
  name: string;
  pid: number;
  /** Count its child processes too (PostgreSQL: one backend process per connection). */
  tree?: boolean;
}

export interface ServerUnderTest {
  label: string;
  /** Which path the clients take, printed with every figure. */
  path: string;
  newDocument(): Promise<string>;
  /**
   * Readies what a client of the document needs before it connects (ours: a user made a member,
   * an access token), so a timed open measures the open alone. Connecting without it does the same first.
   */
  prepare?(docName: string): Promise<void>;
  connect(docName: string): BenchClient;
  /** Processes whose RSS is "the server's memory". */
  memoryProcesses(): ServedProcess[];
  /** Processes whose CPU is reported as the server's (a superset of the above for us: NATS, history). */
  cpuProcesses(): ServedProcess[];
  /** Open connections as the server counts them. */
  connections(): Promise<number>;
  /** Documents the server holds in memory. */
  openDocuments(): Promise<number>;
  /** Starts a window on the server's own latency metrics, if it has any; the result describes the window. */
  internals?(): Promise<() => Promise<string>>;
}

const WS = WebSocket as unknown as typeof globalThis.WebSocket;

/** How many times this process's clients saw their connection closed, by close code ("none": closed without a frame). */
export const closeCodesSeen = new Map<string, number>();
function countClose(code: number | undefined): void {
  const key = code === undefined || code === 1005 || code === 1006 ? "none" : String(code);
  closeCodesSeen.set(key, (closeCodesSeen.get(key) ?? 0) + 1);
}

/** An unmodified y-websocket provider, as test/collab-client.ts connects: our wire protocol. */
export function yWebsocketClient(serverUrl: string, room: string, token: string | Promise<string>): BenchClient {
  const doc = new Y.Doc();
  let provider: WebsocketProvider | undefined;
  let destroyed = false;
  const synced = (async () => {
    const t = await token;
    if (destroyed) return;
    const p = new WebsocketProvider(serverUrl, room, doc, {
      WebSocketPolyfill: WS,
      params: { token: t },
      disableBc: true,
      maxBackoffTime: 1000,
    });
    provider = p;
    p.on("connection-close", (event) => countClose(event?.code));
    // As the web app does (web/src/collab/reconnect.ts): a refusal for too many connections is
    // tried again after a pause, where y-websocket alone would stop at any 4xxx close.
    p.on("closed", (event) => {
      if (event.code === CloseCodes.rateLimited) setTimeout(() => !destroyed && p.connect(), RATE_LIMIT_RETRY_MS).unref();
    });
    await new Promise<void>((resolve) => {
      if (p.synced) resolve();
      const onSync = (state: boolean) => {
        if (!state) return;
        p.off("sync", onSync);
        resolve();
      };
      p.on("sync", onSync);
    });
  })();
  return {
    doc,
    synced,
    bufferedAmount: () => provider?.ws?.bufferedAmount ?? 0,
    isSynced: () => provider?.wsconnected === true && provider.synced,
    destroy: () => {
      destroyed = true;
      provider?.destroy();
      doc.destroy();
    },
  };
}

/**
 * Who our bench clients connect as. The sync service caps one user's /collab connections and open
 * documents (64 and 32 by default, over every replica), as a browser user meets them; the bench keeps
 * to those defaults by spreading its clients over enough users, each a member (editor) of the
 * documents its clients open. A user is never reused after its share is spent, so a closing
 * connection the server has not yet counted out cannot push anyone over the cap.
 */
export class BenchIdentities {
  private readonly users: { token: Promise<string>; email: Promise<string>; connections: number; docs: Set<string> }[] = [];
  private readonly shared = new Map<string, Promise<void>>();

  constructor(
    private readonly owner: TestApi,
    private readonly perUser = { connections: 48, documents: 24 },
  ) {}

  /** The access token a new client of `docId` connects with (its user made a member first if needed). */
  tokenFor(docId: string): Promise<string> {
    let user = this.users.find((u) => u.connections < this.perUser.connections && (u.docs.has(docId) || u.docs.size < this.perUser.documents));
    if (!user) {
      const made = this.owner.newUser("Bench typist");
      user = { token: made.then((m) => m.auth.accessToken), email: made.then((m) => m.auth.user.email), connections: 0, docs: new Set() };
      this.users.push(user);
    }
    user.connections += 1;
    const u = user;
    if (!u.docs.has(docId)) {
      u.docs.add(docId);
      this.shared.set(
        `${docId}:${this.users.indexOf(u)}`,
        (async () => {
          const email = await u.email;
          // Two users joining one document at once: the second share meets the first's new version (409) and is sent again.
          for (let attempt = 0; ; attempt++) {
            const res = await this.owner.post(`/api/docs/${docId}/members`, { email, role: "editor" });
            if (res.status < 300) break;
            if (res.status !== 409 || attempt >= 10) throw new Error(`sharing a bench document failed: ${res.status} ${JSON.stringify(res.body)}`);
          }
        })(),
      );
    }
    const share = this.shared.get(`${docId}:${this.users.indexOf(u)}`)!;
    return share.then(() => u.token);
  }

  get userCount(): number {
    return this.users.length;
  }
}

/** Hocuspocus' own provider (3.4), one WebSocket per client (no multiplexing), `ws` as the WebSocket. */
export function hocuspocusClient(url: string, name: string): BenchClient {
  const doc = new Y.Doc();
  const socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket, maxDelay: 1000 });
  socket.on("close", ({ event }: { event: { code?: number } }) => countClose(event.code));
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: doc });
  const synced = new Promise<void>((resolve) => {
    if (provider.isSynced) resolve();
    provider.on("synced", () => resolve());
  });
  provider.attach();
  return {
    doc,
    synced,
    bufferedAmount: () => socket.webSocket?.bufferedAmount ?? 0,
    isSynced: () => provider.isSynced,
    destroy: () => {
      provider.destroy();
      socket.destroy();
      doc.destroy();
    },
  };
}

/** Our system: documents made over REST by one user; clients connect to `collabUrl` (the gateway's or a sync replica's /collab), in turn when there are several. */
export function palimpsestServer(opts: {
  label: string;
  path: string;
  api: TestApi;
  identities: BenchIdentities;
  collabUrl: string | string[];
  memory: () => ServedProcess[];
  cpu: () => ServedProcess[];
  metricsUrls: { sync: string };
}): ServerUnderTest {
  const prepared = new Map<string, Promise<string>[]>();
  const urls = typeof opts.collabUrl === "string" ? [opts.collabUrl] : opts.collabUrl;
  let next = 0;
  return {
    label: opts.label,
    path: opts.path,
    newDocument: async () => (await opts.api.createDoc("bench")).id,
    async prepare(docId) {
      const token = opts.identities.tokenFor(docId);
      prepared.set(docId, [...(prepared.get(docId) ?? []), token]);
      await token;
    },
    connect: (docId) => yWebsocketClient(urls[next++ % urls.length]!, docId, prepared.get(docId)?.shift() ?? opts.identities.tokenFor(docId)),
    memoryProcesses: opts.memory,
    cpuProcesses: opts.cpu,
    connections: async () => metricValue(opts.metricsUrls.sync, "sync_connections"),
    openDocuments: async () => metricValue(opts.metricsUrls.sync, "sync_open_documents"),
    async internals() {
      const names = ["sync_append_seconds", "sync_fanout_seconds"];
      const before = await Promise.all(names.map((n) => histogram(opts.metricsUrls.sync, n)));
      return async () => {
        const after = await Promise.all(names.map((n) => histogram(opts.metricsUrls.sync, n)));
        const q = (i: number, p: number) => quantileBound(before[i]!, after[i]!, p);
        return (
          `sync service's own histograms over the window: receive -> JetStream ack p50 ${q(0, 0.5)}, p99 ${q(0, 0.99)}; ` +
          `stored (time header) -> sent to clients p50 ${q(1, 0.5)}, p99 ${q(1, 0.99)}`
        );
      };
    },
  };
}

/** Cumulative bucket counts of a Prometheus histogram: [upper bound in seconds, count]. */
export async function histogram(url: string, name: string): Promise<[number, number][]> {
  const text = await (await fetch(url)).text();
  const out: [number, number][] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    out.push([le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), Number(line.slice(line.lastIndexOf(" ") + 1))]);
  }
  return out;
}

/** The bucket bound under which a share `p` of the window's observations fell, e.g. "<= 5 ms". */
export function quantileBound(before: [number, number][], after: [number, number][], p: number): string {
  const counts = after.map(([le, c], i) => [le, c - (before[i]?.[1] ?? 0)] as const);
  const total = counts[counts.length - 1]?.[1] ?? 0;
  if (total === 0) return "n/a";
  const hit = counts.find(([, c]) => c >= p * total);
  if (!hit || !Number.isFinite(hit[0])) return `> ${(counts[counts.length - 2]?.[0] ?? 0) * 1000} ms`;
  return `<= ${+(hit[0] * 1000).toFixed(1)} ms`;
}

let hocusDocs = 0;

export function hocuspocusServer(label: string, h: HocuspocusProcess): ServerUnderTest {
  const procs = () => [{ name: "hocuspocus", pid: h.process.pid ?? 0 }];
  return {
    label,
    path: "HocuspocusProvider -> Hocuspocus (one process, documents in memory)",
    newDocument: async () => `bench-doc-${++hocusDocs}-${process.pid}`,
    connect: (name) => hocuspocusClient(h.url, name),
    memoryProcesses: procs,
    cpuProcesses: procs,
    connections: async () => (await h.stats()).connections,
    openDocuments: async () => (await h.stats()).documents,
  };
}

/** One sample of a Prometheus text exposition (the first series of that name). */
export async function metricValue(url: string, name: string, timeoutMs?: number): Promise<number> {
  const text = await (await fetch(url, timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`metric ${name} not found at ${url}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

export interface HocuspocusProcess {
  url: string;
  port: number;
  process: ManagedProcess;
  stats(): Promise<{ documents: number; connections: number }>;
  stop(): Promise<void>;
}

export const tsxLoader = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist", "loader.mjs")).href;

/** Starts bench/hocuspocus-server.ts as a child process on a free port of 127.0.0.1 (same node, same tsx loader as our services). */
export async function startHocuspocus(opts: { logDir: string; name: string; stateDir?: string; port?: number }): Promise<HocuspocusProcess> {
  const port = opts.port ?? (await freePort());
  const proc = new ManagedProcess({
    name: opts.name,
    command: process.execPath,
    args: ["--import", tsxLoader, new URL("./hocuspocus-server.ts", import.meta.url).pathname, String(port)],
    env: { ...process.env, NODE_ENV: "production", ...(opts.stateDir ? { HOCUSPOCUS_STATE_DIR: opts.stateDir } : {}) },
    logFile: path.join(opts.logDir, `${opts.name}.log`),
  });
  const stats = async () => (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { documents: number; connections: number };
  await waitUntil(opts.name, async () => typeof (await stats()).documents === "number", { process: proc, timeoutMs: 30_000 });
  return { url: `ws://127.0.0.1:${port}`, port, process: proc, stats, stop: () => proc.stop() };
}

/** Resident set size of a process, bytes. */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!m?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds every process of the machine has used so far (busy time of all CPUs, from /proc/stat). */
export function machineCpuSeconds(): number {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait (steal kept apart)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = v;
  return (user + nice + system + irq + softirq) / TICKS_PER_SECOND;
}

/**
 * CPU seconds of a process and, with `tree`, of each of its children (one level, as PostgreSQL's
 * backends are), by pid: a child that exits takes its seconds with it, so a window compares the
 * children it saw at both ends (and counts new ones whole) instead of subtracting the departed.
 */
function servedCpuSeconds(p: ServedProcess): Map<number, number> {
  const byPid = new Map([[p.pid, cpuSeconds(p.pid)]]);
  if (!p.tree) return byPid;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === p.pid) byPid.set(Number(entry), cpuSeconds(Number(entry)));
    } catch {
      // gone meanwhile
    }
  }
  return byPid;
}

function secondsSince(start: Map<number, number> | undefined, now: Map<number, number>): number {
  let total = 0;
  for (const [pid, secs] of now) total += secs - (start?.get(pid) ?? 0);
  return total;
}

/** CPU use of some processes, of this process and of the machine over a window, in cores. */
export class CpuMeter {
  private readonly start: Map<string, Map<number, number>>;
  private readonly startClient = process.cpuUsage();
  private readonly startMachine = machineCpuSeconds();
  private readonly t0 = performance.now();

  constructor(private readonly procs: ServedProcess[]) {
    this.start = new Map(procs.map((p) => [p.name, servedCpuSeconds(p)]));
  }

  /** The server processes' CPU since the meter started, in cores. */
  cores(): number {
    const secs = (performance.now() - this.t0) / 1000;
    return this.procs.reduce((a, p) => a + secondsSince(this.start.get(p.name), servedCpuSeconds(p)), 0) / secs;
  }

  /** "server CPU gateway 0.21 + sync 0.35 = 0.56 cores; load generator 0.60; unattributed (...) 0.04; machine busy 1.20 of 2" */
  report(): string {
    const secs = (performance.now() - this.t0) / 1000;
    const parts = this.procs.map((p) => ({ name: p.name, cores: secondsSince(this.start.get(p.name), servedCpuSeconds(p)) / secs }));
    const total = parts.reduce((a, p) => a + p.cores, 0);
    const client = process.cpuUsage(this.startClient);
    const clientCores = (client.user + client.system) / 1e6 / secs;
    const server = parts.length === 1 ? `${total.toFixed(3)}` : `${parts.map((p) => `${p.name} ${p.cores.toFixed(3)}`).join(" + ")} = ${total.toFixed(3)}`;
    const machineCores = (machineCpuSeconds() - this.startMachine) / secs;
    const rest = Math.max(0, machineCores - total - clientCores);
    return `server CPU ${server} cores; load generator ${clientCores.toFixed(2)}; unattributed (kernel network work, other processes) ${rest.toFixed(2)}; machine busy ${machineCores.toFixed(2)} of ${os.cpus().length}`;
  }
}
