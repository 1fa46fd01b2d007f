import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceName } from "@palimpsest/contracts";
import { freePort, type ManagedProcess } from "../stores/managed-process.ts";
import { startServiceProcess } from "../stores/service-process.ts";

export interface SystemOptions {
  /** Environment pointing at the stores (from the global setup). */
  storeEnv: Record<string, string>;
  syncReplicas?: number;
  gateways?: number;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  logDir?: string;
  /** How long each service may take to become ready (default 60 s); more on a machine shared with other work. */
  readyTimeoutMs?: number;
}

export interface ServiceHandle {
  name: ServiceName;
  instance: string;
  port: number;
  /** Where its Prometheus /metrics is: its own port, except the gateway's (METRICS_PORT). */
  metricsPort: number;
  process: ManagedProcess;
}

export interface RunningSystem {
  /** Base URL of gateway `i` (default the first). */
  gatewayUrl(i?: number): string;
  services: ServiceHandle[];
  byName(name: ServiceName): ServiceHandle[];
  logDir: string;
  /** Stops every service gracefully (SIGTERM); the stores keep running. */
  stop(): Promise<void>;
  /** Starts again every service that is not running, on the same ports. */
  start(): Promise<void>;
}

/**
 * Starts every service as its own process against the given stores, each on a free port,
 * several sync replicas and gateways when asked; the gateways find the sync replicas over NATS.
 */
export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const logDir = opts.logDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-logs-"));
  const base = { ...opts.storeEnv, LOG_LEVEL: "debug", ...opts.env };
  const syncPorts = await Promise.all(Array.from({ length: opts.syncReplicas ?? 1 }, () => freePort()));
  const plan: { name: ServiceName; instance: string; port: number; metricsPort?: number; env: Record<string, string> }[] = [];
  for (const name of ["auth", "docs", "history", "files"] as const) plan.push({ name, instance: "1", port: await freePort(), env: base });
  syncPorts.forEach((port, i) => plan.push({ name: "sync", instance: String(i + 1), port, env: base }));
  // No SYNC_URLS / FILES_URLS: the gateways find the sync and files replicas as they announce themselves.
  for (let i = 0; i < (opts.gateways ?? 1); i++) {
    const metricsPort = await freePort();
    plan.push({ name: "gateway", instance: String(i + 1), port: await freePort(), metricsPort, env: { ...base, METRICS_PORT: String(metricsPort) } });
  }
  const handles = new Map<string, ServiceHandle>();

  async function startMissing(): Promise<void> {
    // Auth first: the others verify tokens with its keys; then the rest together.
    const launch = async (p: (typeof plan)[number]) => {
      const key = `${p.name}-${p.instance}`;
      const existing = handles.get(key);
      if (existing?.process.running) return;
      let process: ManagedProcess;
      for (let attempt = 1; ; attempt++) {
        try {
          process = await startServiceProcess({ name: p.name, instance: p.instance, port: p.port, env: p.env, logDir, ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}) });
          break;
        } catch (err) {
          // A port found free when the plan was made can be taken before the service binds it (by
          // another test's server, or as the local end of an outgoing connection): new ports, again.
          if (attempt >= 3 || !String(err).includes("EADDRINUSE")) throw err;
          p.port = await freePort();
          if (p.metricsPort !== undefined) {
            p.metricsPort = await freePort();
            p.env = { ...p.env, METRICS_PORT: String(p.metricsPort) };
          }
        }
      }
      handles.set(key, { name: p.name, instance: p.instance, port: p.port, metricsPort: p.metricsPort ?? p.port, process });
    };
    // Every launch settles before a failure is reported, so none is left running unregistered.
    const all = async (items: typeof plan) => {
      const results = await Promise.allSettled(items.map(launch));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    };
    const [auth, ...rest] = plan;
    if (auth) await all([auth]);
    await all(rest.filter((p) => p.name !== "gateway"));
    await all(rest.filter((p) => p.name === "gateway"));
  }

  const system: RunningSystem = {
    logDir,
    get services() {
      return [...handles.values()];
    },
    byName: (name) => [...handles.values()].filter((h) => h.name === name),
    gatewayUrl(i = 0) {
      const gw = system.byName("gateway")[i];
      if (!gw) throw new Error(`no gateway ${i}`);
      return `http://127.0.0.1:${gw.port}`;
    },
    async stop() {
      await Promise.all([...handles.values()].map((h) => h.process.stop()));
    },
    start: startMissing,
  };
  try {
    await startMissing();
  } catch (err) {
    await system.stop();
    throw err;
  }
  return system;
}
