import fs from "node:fs";
import path from "node:path";
import { freePort, type ManagedProcess } from "./managed-process.ts";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import { DatabaseServices, ensureStreams, provisionDatabaseRoles } from "@palimpsest/platform";
import { loadOrCreateLocalSecrets } from "./local-secrets.ts";
import { startNatsServer, type NatsCluster } from "./nats-server.ts";
import { startPostgresServer } from "./postgres-server.ts";
import { startRedisServer } from "./redis-server.ts";
import { startS3Server } from "./s3-server.ts";
import { startMailServer } from "./mail-server.ts";

export interface StoreOptions {
  dataDir: string;
  /** Fixed ports for a local run; free ones are picked for any left out. */
  ports?: Partial<Record<"nats" | "natsMonitor" | "natsCluster" | "postgres" | "redis" | "s3" | "smtp" | "mailbox", number>>;
  /** JetStream nodes: 1 is a single server, 3 a cluster whose streams have 3 replicas. */
  natsClusterSize?: number;
  /** The nats-server binary (default: the one on PATH). */
  natsServerBinary?: string;
  /** A local run keeps its data safe on disk; a test run trades that for speed. */
  durable: boolean;
  bucket?: string;
  db?: { user: string; password: string; database: string };
  /** Stores that already run elsewhere: these are used as they are and not started here. */
  external?: Partial<Record<"natsUrl" | "databaseUrl" | "redisUrl" | "s3Endpoint" | "smtpUrl", string>>;
}

export interface StoreSet {
  natsUrl: string;
  databaseUrl: string;
  redisUrl: string;
  s3Endpoint: string;
  bucket: string;
  smtpUrl: string;
  /** Where to read the mail the local mail server received (undefined when an external SMTP server is used). */
  mailboxUrl: string | undefined;
  /** The NATS server or cluster started here (undefined when an external one is used). */
  nats: NatsCluster | undefined;
  /**
   * The environment a service needs to reach these stores. It names the NATS credentials file;
   * startServiceProcess hands each service only its own user and password from it.
   */
  env: Record<string, string>;
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

/**
 * Tests and local inspection query tables by their bare names as the admin: its search path
 * takes in every service's schema (a checkpoint table, in each of them, needs its schema named).
 */
async function adminSeesEverySchema(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const path = ["$user", "public", ...DatabaseServices].map((s) => `"${s}"`).join(", ");
    await client.query(`alter role current_user in database ${(await client.query<{ db: string }>("select quote_ident(current_database()) as db")).rows[0]?.db ?? ""} set search_path = ${path}`);
  } finally {
    await client.end();
  }
}

/** Starts NATS with JetStream, PostgreSQL, Redis and the S3-compatible store under one data folder. */
export async function startStores(opts: StoreOptions): Promise<StoreSet> {
  const logs = path.join(opts.dataDir, "logs");
  fs.mkdirSync(logs, { recursive: true });
  const port = async (k: keyof NonNullable<StoreOptions["ports"]>) => opts.ports?.[k] ?? (await freePort());
  const db = opts.db ?? { user: "palimpsest", password: "palimpsest", database: "palimpsest" };
  const bucket = opts.bucket ?? "palimpsest";

  const ext = opts.external ?? {};
  const secretsFile = path.join(opts.dataDir, "local-secrets.json");
  const secrets = loadOrCreateLocalSecrets(secretsFile);
  const started = await Promise.allSettled([
    ext.natsUrl
      ? Promise.resolve({ url: ext.natsUrl, process: undefined })
      : (async () => {
          const nats = await startNatsServer({
            dataDir: path.join(opts.dataDir, "nats"),
            size: opts.natsClusterSize ?? 1,
            ...(opts.ports?.nats === undefined ? {} : { port: opts.ports.nats }),
            ...(opts.ports?.natsMonitor === undefined ? {} : { monitorPort: opts.ports.natsMonitor }),
            ...(opts.ports?.natsCluster === undefined ? {} : { clusterPort: opts.ports.natsCluster }),
            ...(opts.natsServerBinary === undefined ? {} : { binary: opts.natsServerBinary }),
            logDir: logs,
          });
          return { url: nats.url, nats, processes: nats.nodes.map((n) => n.process) };
        })(),
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
            credentials: secrets.objectStore,
          }))(),
    ext.smtpUrl
      ? Promise.resolve({ url: ext.smtpUrl, process: undefined })
      : (async () => {
          const mail = await startMailServer({ smtpPort: await port("smtp"), httpPort: await port("mailbox"), logFile: path.join(logs, "mail.log") });
          return { url: mail.smtpUrl, mailboxUrl: mail.mailboxUrl, process: mail.process };
        })(),
  ]);
  const processes = started.flatMap((r) => {
    if (r.status !== "fulfilled") return [];
    const v = r.value as { process?: ManagedProcess; processes?: ManagedProcess[] };
    return v.processes ?? (v.process ? [v.process] : []);
  });
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    // Leave nothing running behind a failed start.
    await Promise.all(processes.map((p) => p.stop()));
    throw failed.reason;
  }
  const [natsResult, postgres, redis, s3, mail] = started.map((r) => (r as PromiseFulfilledResult<{ url?: string; endpoint?: string; nats?: NatsCluster; mailboxUrl?: string }>).value);
  const nats = natsResult?.nats;
  const natsStarted = nats ? nats.nodes.map((n) => n.process) : [];
  const natsUrl = natsResult?.url ?? "";
  const databaseUrl = postgres?.url ?? "";
  const redisUrl = redis?.url ?? "";
  const s3Endpoint = s3?.endpoint ?? "";
  const smtpUrl = mail?.url ?? "";
  const mailboxUrl = mail?.mailboxUrl;
  const streamReplicas = Math.min(opts.natsClusterSize ?? 1, 3);
  try {
    // Each service's role and schema: created here as the admin, as the set-up job does on Kubernetes.
    await provisionDatabaseRoles(databaseUrl, secrets.database);
    await adminSeesEverySchema(databaseUrl);
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop()));
    throw new Error(`cannot create the services' database roles as ${new URL(databaseUrl).username}`, { cause: err });
  }
  if (nats) {
    // Creating and updating streams is the admin's job; services may only create a missing one.
    try {
      const nc = await connect({ ...nats.connectOptions("admin"), name: "stream-setup" });
      try {
        await ensureStreams(await jetstreamManager(nc), streamReplicas, { update: true });
      } finally {
        await nc.close();
      }
    } catch (err) {
      await Promise.all(processes.map((p) => p.stop()));
      throw err;
    }
  }
  return {
    natsUrl,
    databaseUrl,
    redisUrl,
    s3Endpoint,
    bucket,
    smtpUrl,
    mailboxUrl,
    nats,
    env: {
      NATS_URL: natsUrl,
      ...(nats ? { NATS_CREDENTIALS_FILE: nats.credentialsFile, STREAM_REPLICAS: String(streamReplicas) } : {}),
      // The admin's: startServiceProcess gives each service its own role from LOCAL_SECRETS_FILE.
      DATABASE_URL: databaseUrl,
      LOCAL_SECRETS_FILE: secretsFile,
      SIGNING_KEY_ENCRYPTION_KEY: secrets.signingKeyEncryptionKey,
      REDIS_URL: redisUrl,
      S3_ENDPOINT: s3Endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: ext.s3Endpoint ? "S3RVER" : secrets.objectStore.accessKeyId,
      S3_SECRET_ACCESS_KEY: ext.s3Endpoint ? "S3RVER" : secrets.objectStore.secretAccessKey,
      SMTP_URL: smtpUrl,
      // Not a service setting: tests read the mail the services sent from here.
      ...(mailboxUrl ? { MAILBOX_URL: mailboxUrl } : {}),
    },
    processes,
    async stop() {
      // A NATS node restarted since (a fault test) is a new process: the cluster stops its nodes as they are now.
      await Promise.all([...processes.filter((p) => !natsStarted.includes(p)).map((p) => p.stop()), nats?.stop()]);
    },
  };
}
