/**
 * Connections at scale (bench/sync.ts part "connections"): tens of thousands of idle /collab
 * clients, held by child processes, a few per document. Per server: how long opening them all
 * took, what each serving process holds per connection (RSS), the idle CPU, and then how long it
 * takes until every client is connected and synced again after a part of the server is killed
 * (ours: one sync replica of several, whose clients move to the others; Hocuspocus: its one
 * process, restarted on the same port).
 */
import { CpuMeter, rssBytes, type ServedProcess } from "./sync-clients.ts";
import { CLIENTS_PER_WORKER, ClientWorkers, type WorkerClient } from "./connection-workers.ts";
import { quiet } from "./sync-scale.ts";

export interface ConnectionsResult {
  label: string;
  connections: number;
  openSeconds: number;
  notSynced: number;
  /** RSS growth per connection, by serving process, and summed. */
  perConnection: Map<string, number>;
  perConnectionTotal: number;
  idleCpu: string;
  failure: string;
  /** Least clients synced at one moment after the failure. */
  fewestSynced: number;
  /** Seconds from the kill until every client was connected and synced again (undefined: not within the bound). */
  recoveredSeconds: number | undefined;
  syncedAtEnd: number;
  /** Close codes the clients saw from the kill to the end, with how often. */
  closesAfterKill: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function connectionsRun(opts: {
  label: string;
  clients: WorkerClient[];
  /** Processes whose memory serves the connections (gateways, sync replicas, nats-server; or Hocuspocus). */
  memory: ServedProcess[];
  /** Processes whose CPU counts as the server's. */
  cpu: ServedProcess[];
  idleSeconds: number;
  /** Waits until the server counts this many connections. */
  counted: (n: number) => Promise<void>;
  /** Kills a part of the server and says what; the clients find their way back by themselves. */
  fail: () => Promise<string>;
  recoveryBoundSeconds: number;
  /** What the server says of itself now (printed every 5 s while the clients find their way back). */
  progress?: () => Promise<string>;
}): Promise<ConnectionsResult> {
  const n = opts.clients.length;
  await quiet(opts.cpu);
  const rss = () => new Map(opts.memory.map((p) => [p.name, rssBytes(p.pid)]));
  const before = rss();
  const workers = ClientWorkers.start(Math.ceil(n / CLIENTS_PER_WORKER));
  try {
    // 20 opens in flight over all workers, as in the scale part: each is a cold open.
    const opened = await workers.open(opts.clients, Math.max(1, Math.round(20 / workers.size)), Math.max(300_000, n * 50));
    await opts.counted(n);
    await sleep(5000);
    const after = rss();
    const perConnection = new Map(opts.memory.map((p) => [p.name, (after.get(p.name)! - before.get(p.name)!) / n]));
    const idle = new CpuMeter(opts.cpu);
    await sleep(opts.idleSeconds * 1000);
    const idleCpu = idle.report();

    const closesBefore = (await workers.synced()).closes;
    const failure = await opts.fail();
    const killedAt = performance.now();
    let fewest = n;
    let recovered: number | undefined;
    let last: Awaited<ReturnType<ClientWorkers["synced"]>> = { synced: 0, total: n, closes: new Map() };
    let reported = killedAt;
    while (performance.now() - killedAt < opts.recoveryBoundSeconds * 1000) {
      last = await workers.synced();
      if (performance.now() - reported >= 5000) {
        reported = performance.now();
        console.log(`    ${opts.label}, ${((reported - killedAt) / 1000).toFixed(0)} s after the kill: ${last.synced} synced${opts.progress ? `; ${await opts.progress()}` : ""}`);
      }
      fewest = Math.min(fewest, last.synced);
      // Done once the drop was seen and every client is back.
      if (fewest < n && last.synced === n) {
        recovered = (performance.now() - killedAt) / 1000;
        break;
      }
      await sleep(200);
    }
    return {
      label: opts.label,
      connections: n,
      openSeconds: opened.ms / 1000,
      notSynced: opened.failed,
      perConnection,
      perConnectionTotal: [...perConnection.values()].reduce((a, b) => a + b, 0),
      idleCpu,
      failure,
      fewestSynced: fewest,
      recoveredSeconds: recovered,
      syncedAtEnd: last.synced,
      closesAfterKill: [...last.closes]
        .map(([code, count]) => [code, count - (closesBefore.get(code) ?? 0)] as const)
        .filter(([, count]) => count > 0)
        .map(([code, count]) => `${code} x${count}`)
        .join(", "),
    };
  } finally {
    await workers.close();
  }
}
