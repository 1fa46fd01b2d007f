import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startStores, startSystem, type RunningSystem, type StoreSet, type SystemOptions } from "@palimpsest/devkit";

export interface BenchSystem {
  stores: StoreSet;
  system: RunningSystem;
  dataDir: string;
  stop(): Promise<void>;
}

/** Real stores and services in a throw-away folder, limits lifted, logs quiet: what a benchmark measures against. */
export async function startBenchSystem(opts: Omit<SystemOptions, "storeEnv" | "logDir"> = {}): Promise<BenchSystem> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-bench-"));
  const stores = await startStores({ dataDir, durable: false });
  let system: RunningSystem;
  try {
    system = await startSystem({
      // A benchmark is often started on a busy machine: a slow start is waited for, not failed.
      readyTimeoutMs: 240_000,
      ...opts,
      storeEnv: stores.env,
      logDir: path.join(dataDir, "logs"),
      env: {
        LOG_LEVEL: "warn",
        RATE_LIMIT_AUTH_PER_WINDOW: "100000000",
        RATE_LIMIT_USER_PER_WINDOW: "100000000",
        RATE_LIMIT_COLLAB_CONNECTS_PER_WINDOW: "100000000",
        ...opts.env,
      },
    });
  } catch (err) {
    // A service that did not start must not leave the stores running; the logs stay for a look.
    await stores.stop();
    console.error(`services did not start; logs kept in ${path.join(dataDir, "logs")}`);
    throw err;
  }
  return {
    stores,
    system,
    dataDir,
    async stop() {
      await system.stop();
      await stores.stop();
      // BENCH_KEEP_LOGS=1 (diagnosis) keeps the services' logs of the run.
      if (process.env["BENCH_KEEP_LOGS"] === "1") console.log(`logs kept in ${path.join(dataDir, "logs")}`);
      else fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(samplesMs: number[]): { n: number; p50: number; p90: number; p99: number; mean: number } {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

export function machine(): string {
  return `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}
