/**
 * Documents at scale (bench/sync.ts part "scale"): N documents open at once, one client each,
 * then idle, then 1% of them typing. Per server: how long each cold open took, what every
 * process holds (RSS) and burns (CPU) with all of them open and idle, and with a few typing; for
 * ours also the JetStream consumers the open documents cost on nats-server.
 */
import * as Y from "yjs";
import { CpuMeter, rssBytes, type BenchClient, type ServedProcess, type ServerUnderTest } from "./sync-clients.ts";
import { summary } from "./bench-system.ts";

export interface ScaleResult {
  label: string;
  documents: number;
  openMs: ReturnType<typeof summary>;
  /** How long the servers took to finish the set-up's work before the opens began. */
  settledAfterSeconds: number;
  /** The server processes' CPU while the documents were being opened, and per open. */
  openCpu: string;
  openCpuMsEach: number;
  rssBefore: Map<string, number>;
  rssAfter: Map<string, number>;
  idleCpu: string;
  idleCores: number;
  typingCpu: string;
  typingEdits: number;
  /** The server's own account of the opens, where it keeps one. */
  openedInside?: string;
  /** Consumers on nats-server with everything open (ours), before and after. */
  consumers?: { before: number; after: number };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sums the CPU cores a CpuMeter report attributes to the server's processes ("... = 0.12 cores"). */
function serverCores(report: string): number {
  const m = /server CPU (?:.* = )?([\d.]+) cores/.exec(report);
  return m ? Number(m[1]) : Number.NaN;
}

export async function scaleRun(
  server: ServerUnderTest,
  opts: {
    documents: number;
    idleSeconds: number;
    typingSeconds: number;
    consumers?: () => Promise<number>;
    processes: ServedProcess[];
    /** Starts a window on the server's own account of its opens; the result describes the window. */
    openInternals?: () => Promise<() => Promise<string>>;
  },
): Promise<ScaleResult> {
  const names: string[] = [];
  for (let i = 0; i < opts.documents; i += 20) {
    names.push(...(await Promise.all(Array.from({ length: Math.min(20, opts.documents - i) }, () => server.newDocument()))));
  }
  if (server.prepare) {
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((name) => server.prepare!(name)));
  }
  // Creating and sharing them leaves the servers' projections busy for a while: opens are
  // timed once that work is done, so they measure what an open costs.
  const settledAfter = await quiet(opts.processes);
  const rss = () => new Map(opts.processes.map((p) => [p.name, rssBytes(p.pid)]));
  const rssBefore = rss();
  const consumersBefore = await opts.consumers?.();
  const clients: BenchClient[] = [];
  const openTimes: number[] = [];
  const openWindow = await opts.openInternals?.();
  const opening = new CpuMeter(opts.processes);
  const openStart = performance.now();
  const deadline = performance.now() + Math.max(300_000, opts.documents * 100);
  try {
    // Twenty opens at a time, each timed from connect to synced: every one is a cold open.
    for (let i = 0; i < names.length; i += 20) {
      const group = names.slice(i, i + 20).map((name) => {
        const t0 = performance.now();
        const c = server.connect(name);
        clients.push(c);
        return c.synced.then(() => openTimes.push(performance.now() - t0));
      });
      await Promise.all(group);
      if (performance.now() > deadline) throw new Error(`${server.label}: opening ${opts.documents} documents took too long`);
    }
    const openCpu = opening.report();
    const openCpuMsEach = (opening.cores() * (performance.now() - openStart)) / names.length;
    const openedInside = await openWindow?.();
    await sleep(5000);
    const idle = new CpuMeter(opts.processes);
    await sleep(opts.idleSeconds * 1000);
    const idleCpu = idle.report();
    const rssAfter = rss();
    const consumersAfter = await opts.consumers?.();

    // 1% of the documents get a typist: 10 edits/s each, into the XmlFragment as the editor types.
    const typists = clients.slice(0, Math.max(1, Math.round(clients.length / 100)));
    const typing = new CpuMeter(opts.processes);
    let edits = 0;
    const end = performance.now() + opts.typingSeconds * 1000;
    while (performance.now() < end) {
      for (const c of typists) {
        c.doc.getXmlFragment("default").insert(0, [new Y.XmlText("x")]);
        edits++;
      }
      await sleep(100);
    }
    const typingCpu = typing.report();
    return {
      label: server.label,
      documents: opts.documents,
      openMs: summary(openTimes),
      settledAfterSeconds: settledAfter,
      openCpu,
      openCpuMsEach,
      rssBefore,
      rssAfter,
      idleCpu,
      idleCores: serverCores(idleCpu),
      typingCpu,
      typingEdits: edits,
      ...(openedInside ? { openedInside } : {}),
      ...(consumersBefore !== undefined && consumersAfter !== undefined ? { consumers: { before: consumersBefore, after: consumersAfter } } : {}),
    };
  } finally {
    for (const c of clients) c.destroy();
  }
}

/** Waits until the processes burn under 0.1 cores over a second (at most a minute); returns the seconds waited. */
export async function quiet(processes: ServedProcess[]): Promise<number> {
  const t0 = performance.now();
  await sleep(1000);
  while (performance.now() - t0 < 60_000) {
    const meter = new CpuMeter(processes);
    await sleep(1000);
    if (meter.cores() < 0.1) break;
  }
  return (performance.now() - t0) / 1000;
}
