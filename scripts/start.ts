/**
 * Starts the whole system locally: NATS with JetStream, PostgreSQL, Redis and the S3-compatible
 * store under one data folder (kept between runs), every service as its own process, and the
 * web app served by the gateway. Ctrl-C stops everything.
 */
import fs from "node:fs";
import path from "node:path";
import type { ServiceName } from "@palimpsest/contracts";
import { env, loadConfig } from "@palimpsest/platform";
import { ensureWebBuilt, staleReason } from "./web-build.ts";
import { portAnswers, repoRoot, startServiceProcess, startStores, type ManagedProcess, type StoreSet } from "@palimpsest/devkit";

const cfg = loadConfig({
  dataDir: env.string("DATA_DIR", ".data", "folder for all local data and logs"),
  gatewayPort: env.int("PORT", 8080, "public port of the gateway"),
  syncReplicas: env.int("SYNC_REPLICAS", 1, "sync processes to run", { min: 1, max: 8 }),
  natsPort: env.int("NATS_PORT", 4222, "port of the local NATS server"),
  natsMonitorPort: env.int("NATS_MONITOR_PORT", 8222, "monitoring port of the local NATS server"),
  natsClusterPort: env.int("NATS_CLUSTER_PORT", 6222, "route port of the first local NATS node (a cluster)"),
  natsServerBin: env.optionalString("NATS_SERVER_BIN", "the nats-server binary to run (default: the one on PATH)"),
  natsClusterSize: env.int("NATS_CLUSTER_SIZE", 1, "JetStream nodes to run: 1, or 3 for a cluster with 3-replica streams", { min: 1, max: 5 }),
  postgresPort: env.int("POSTGRES_PORT", 54320, "port of the local PostgreSQL"),
  redisPort: env.int("REDIS_PORT", 6380, "port of the local Redis"),
  s3Port: env.int("S3_PORT", 9000, "port of the local S3-compatible store"),
  smtpPort: env.int("SMTP_PORT", 1025, "SMTP port of the local mail server (it keeps what it receives; nothing is relayed)"),
  mailboxPort: env.int("MAILBOX_PORT", 1080, "HTTP port where the local mail server shows what it received"),
  natsUrl: env.optionalString("NATS_URL", "use this NATS instead of starting one"),
  databaseUrl: env.optionalString("DATABASE_URL", "use this PostgreSQL instead of starting one"),
  redisUrl: env.optionalString("REDIS_URL", "use this Redis instead of starting one"),
  s3Endpoint: env.optionalString("S3_ENDPOINT", "use this S3 endpoint instead of starting one"),
  smtpUrl: env.optionalString("SMTP_URL", "send mail through this SMTP server instead of starting the local one"),
  logLevel: env.string("LOG_LEVEL", "info", "log level of the services"),
});

const dataDir = path.resolve(repoRoot, cfg.dataDir);
const logDir = path.join(dataDir, "logs");
fs.mkdirSync(logDir, { recursive: true });

const servicePorts: Record<Exclude<ServiceName, "sync" | "gateway">, number> = { auth: 8081, docs: 8082, files: 8084, history: 8085 };
const syncPorts = Array.from({ length: cfg.syncReplicas }, (_, i) => 8083 + 100 * i);

/** A cluster's node i listens on each base port + i. */
function nodePorts(size: number): number[] {
  const bases = size > 1 ? [cfg.natsPort, cfg.natsMonitorPort, cfg.natsClusterPort] : [cfg.natsPort, cfg.natsMonitorPort];
  return bases.flatMap((b) => Array.from({ length: size }, (_, i) => b + i));
}

async function checkFree(ports: number[]): Promise<void> {
  const busy = [];
  for (const p of ports) if (await portAnswers(p)) busy.push(p);
  if (busy.length) {
    throw new Error(`port(s) ${busy.join(", ")} already in use: is another instance running? Stop it, or change the ports (see README).`);
  }
}

let stores: StoreSet | undefined;
const services: ManagedProcess[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  console.log("\nstopping services ...");
  // Gateway first so no new work arrives, then the rest, then the stores.
  for (const p of [...services].reverse()) await p.stop();
  console.log("stopping stores ...");
  await stores?.stop();
  console.log("stopped.");
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  const storePorts = [
    ...(cfg.natsUrl ? [] : nodePorts(cfg.natsClusterSize)),
    ...(cfg.databaseUrl ? [] : [cfg.postgresPort]),
    ...(cfg.redisUrl ? [] : [cfg.redisPort]),
    ...(cfg.s3Endpoint ? [] : [cfg.s3Port]),
    ...(cfg.smtpUrl ? [] : [cfg.smtpPort, cfg.mailboxPort]),
  ];
  await checkFree([...storePorts, ...Object.values(servicePorts), ...syncPorts, cfg.gatewayPort]);
  if (staleReason()) console.log("building the web app ...");
  ensureWebBuilt();
  console.log(`starting stores under ${path.relative(process.cwd(), dataDir) || "."} ...`);
  stores = await startStores({
    dataDir,
    durable: true,
    natsClusterSize: cfg.natsClusterSize,
    ...(cfg.natsServerBin ? { natsServerBinary: cfg.natsServerBin } : {}),
    ports: { nats: cfg.natsPort, natsMonitor: cfg.natsMonitorPort, natsCluster: cfg.natsClusterPort, postgres: cfg.postgresPort, redis: cfg.redisPort, s3: cfg.s3Port, smtp: cfg.smtpPort, mailbox: cfg.mailboxPort },
    external: {
      ...(cfg.natsUrl ? { natsUrl: cfg.natsUrl } : {}),
      ...(cfg.databaseUrl ? { databaseUrl: cfg.databaseUrl } : {}),
      ...(cfg.redisUrl ? { redisUrl: cfg.redisUrl } : {}),
      ...(cfg.s3Endpoint ? { s3Endpoint: cfg.s3Endpoint } : {}),
      ...(cfg.smtpUrl ? { smtpUrl: cfg.smtpUrl } : {}),
    },
  });
  const base = { ...stores.env, LOG_LEVEL: cfg.logLevel, WEB_DIST: path.join(repoRoot, "web", "dist"), PUBLIC_URL: `http://localhost:${cfg.gatewayPort}`, WEBHOOK_ALLOW_PRIVATE_TARGETS: process.env["WEBHOOK_ALLOW_PRIVATE_TARGETS"] ?? "loopback" };
  console.log("starting services ...");
  services.push(await startServiceProcess({ name: "auth", port: servicePorts.auth, env: base, logDir }));
  const rest = await Promise.all([
    startServiceProcess({ name: "docs", port: servicePorts.docs, env: base, logDir }),
    startServiceProcess({ name: "history", port: servicePorts.history, env: base, logDir }),
    startServiceProcess({ name: "files", port: servicePorts.files, env: base, logDir }),
    ...syncPorts.map((port, i) => startServiceProcess({ name: "sync", instance: String(i + 1), port, env: base, logDir })),
  ]);
  services.push(...rest);
  // The gateway finds the sync and files replicas as they announce themselves over NATS.
  services.push(await startServiceProcess({ name: "gateway", port: cfg.gatewayPort, env: base, logDir }));
  console.log(`
  Palimpsest is running:  http://localhost:${cfg.gatewayPort}

  mail:  ${stores.mailboxUrl ? `${stores.mailboxUrl.replace("127.0.0.1", "localhost")}/  (every email the system sends: invitations, password resets)` : `sent through ${stores.smtpUrl}`}
  NATS:  ${stores.natsUrl}${stores.nats ? ` (${stores.nats.nodes.length} node${stores.nats.nodes.length > 1 ? "s" : ""}; credentials in ${stores.nats.credentialsFile})` : ""}
  data:  ${dataDir}
  secrets: ${stores.env["LOCAL_SECRETS_FILE"] ?? "(none)"} (database role passwords, signing-key encryption key)
  logs:  ${logDir}
  Ctrl-C stops everything; running again keeps your data.
`);
  // Keep running; a service that dies is reported and takes the whole run down cleanly.
  await Promise.race(services.map((s) => s.exited.then((code) => ({ s, code }))));
  if (!stopping) {
    const dead = services.find((s) => !s.running);
    console.error(`${dead?.options.name ?? "a service"} exited unexpectedly; see ${dead?.options.logFile ?? logDir}`);
    await shutdown(1);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  await shutdown(1);
}
