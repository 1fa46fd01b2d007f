import fs from "node:fs";
import path from "node:path";
import { freePort, type ManagedProcess } from "./managed-process.ts";
import { startNatsServer } from "./nats-server.ts";
import { startPostgresServer } from "./postgres-server.ts";
import { startRedisServer } from "./redis-server.ts";
import { startS3Server } from "./s3-server.ts";

export interface StoreOptions {
  dataDir: string;
  /** Fixed ports for a local run; free ones are picked for any left out. */
  ports?: Partial<Record<"nats" | "natsMonitor" | "postgres" | "redis" | "s3", number>>;
  /** A local run keeps its data safe on disk; a test run trades that for speed. */
  durable: boolean;
  bucket?: string;
  db?: { user: string; password: string; database: string };
  /** Stores that already run elsewhere: these are used as they are and not started here. */
  external?: Partial<Record<"natsUrl" | "databaseUrl" | "redisUrl" | "s3Endpoint", string>>;
}

export interface StoreSet {
  natsUrl: string;
  databaseUrl: string;
  redisUrl: string;
  s3Endpoint: string;
  bucket: string;
  /** The environment a service needs to reach these stores. */
  env: Record<string, string>;
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

/** Starts NATS with JetStream, PostgreSQL, Redis and the S3-compatible store under one data folder. */
export async function startStores(opts: StoreOptions): Promise<StoreSet> {
  const logs = path.join(opts.dataDir, "logs");
  fs.mkdirSync(logs, { recursive: true });
  const port = async (k: keyof NonNullable<StoreOptions["ports"]>) => opts.ports?.[k] ?? (await freePort());
  const db = opts.db ?? { user: "palimpsest", password: "palimpsest", database: "palimpsest" };
  const bucket = opts.bucket ?? "palimpsest";

  const ext = opts.external ?? {};
  const started = await Promise.allSettled([
    ext.natsUrl
      ? Promise.resolve({ url: ext.natsUrl, process: undefined })
      : (async () =>
          startNatsServer({
            dataDir: path.join(opts.dataDir, "nats"),
            port: await port("nats"),
            monitorPort: await port("natsMonitor"),
            logFile: path.join(logs, "nats-server.log"),
          }))(),
    ext.databaseUrl
      ? Promise.resolve({ url: ext.databaseUrl, process: undefined })
      : (async () =>
          startPostgresServer({
            dataDir: path.join(opts.dataDir, "postgres"),
            port: await port("postgres"),
            logFile: path.join(logs, "postgres.log"),
            durable: opts.durable,
            ...db,
          }))(),
    ext.redisUrl
      ? Promise.resolve({ url: ext.redisUrl, process: undefined })
      : (async () =>
          startRedisServer({
            dataDir: path.join(opts.dataDir, "redis"),
            port: await port("redis"),
            logFile: path.join(logs, "redis.log"),
            persist: opts.durable,
          }))(),
    ext.s3Endpoint
      ? Promise.resolve({ endpoint: ext.s3Endpoint, process: undefined })
      : (async () =>
          startS3Server({
            dataDir: path.join(opts.dataDir, "s3"),
            port: await port("s3"),
            bucket,
            logFile: path.join(logs, "s3.log"),
          }))(),
  ]);
  const processes = started.flatMap((r) => (r.status === "fulfilled" && r.value.process ? [r.value.process] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    // Leave nothing running behind a failed start.
    await Promise.all(processes.map((p) => p.stop()));
    throw failed.reason;
  }
  const [nats, postgres, redis, s3] = started.map((r) => (r as PromiseFulfilledResult<{ url?: string; endpoint?: string }>).value);
  const natsUrl = nats?.url ?? "";
  const databaseUrl = postgres?.url ?? "";
  const redisUrl = redis?.url ?? "";
  const s3Endpoint = s3?.endpoint ?? "";
  return {
    natsUrl,
    databaseUrl,
    redisUrl,
    s3Endpoint,
    bucket,
    env: {
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      S3_ENDPOINT: s3Endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
    },
    processes,
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}
