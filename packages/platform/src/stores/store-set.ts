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

  const [nats, postgres, redis, s3] = await Promise.all([
    (async () =>
      startNatsServer({
        dataDir: path.join(opts.dataDir, "nats"),
        port: await port("nats"),
        monitorPort: await port("natsMonitor"),
        logFile: path.join(logs, "nats-server.log"),
      }))(),
    (async () =>
      startPostgresServer({
        dataDir: path.join(opts.dataDir, "postgres"),
        port: await port("postgres"),
        logFile: path.join(logs, "postgres.log"),
        durable: opts.durable,
        ...db,
      }))(),
    (async () =>
      startRedisServer({
        dataDir: path.join(opts.dataDir, "redis"),
        port: await port("redis"),
        logFile: path.join(logs, "redis.log"),
        persist: opts.durable,
      }))(),
    (async () =>
      startS3Server({
        dataDir: path.join(opts.dataDir, "s3"),
        port: await port("s3"),
        bucket,
        logFile: path.join(logs, "s3.log"),
      }))(),
  ]);
  const processes = [nats.process, postgres.process, redis.process, s3.process];
  return {
    natsUrl: nats.url,
    databaseUrl: postgres.url,
    redisUrl: redis.url,
    s3Endpoint: s3.endpoint,
    bucket,
    env: {
      NATS_URL: nats.url,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      S3_ENDPOINT: s3.endpoint,
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
