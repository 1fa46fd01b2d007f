import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BusUsers, inboxPrefixOf, renderNatsAuthorization, type BusUser } from "@palimpsest/platform";
import { ManagedProcess, freePort, waitUntil } from "./managed-process.ts";
import { requireBinary } from "./binaries.ts";

export type NatsCredentials = Record<BusUser, string>;

export interface NatsServerOptions {
  dataDir: string;
  /** Nodes of the JetStream cluster; 1 is a single server. */
  size?: number;
  /** Client, monitoring and cluster ports of the first node; node i uses these plus i. Free ones when left out. */
  port?: number;
  monitorPort?: number;
  clusterPort?: number;
  logDir: string;
  /** The nats-server binary (default: the one on PATH). */
  binary?: string;
}

export interface NatsNode {
  readonly name: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly clusterPort: number;
  readonly process: ManagedProcess;
  /** Starts the node again after it was stopped or killed, with the same store and ports. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  url: string;
  nodes: NatsNode[];
  credentials: NatsCredentials;
  /** Where the credentials are kept (mode 0600), for tools and the test harness. */
  credentialsFile: string;
  /** Connection options for one of the bus users. */
  connectOptions(user: BusUser): { servers: string[]; user: string; pass: string; inboxPrefix: string };
  stop(): Promise<void>;
}

/**
 * Each bus user's password, made once and kept under the data folder so a local run keeps them
 * across restarts; a new user (a new service) gets one the first time.
 */
export function loadOrCreateCredentials(file: string): NatsCredentials {
  let existing: Partial<Record<string, string>> = {};
  if (fs.existsSync(file)) existing = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Record<string, string>>;
  const creds = Object.fromEntries(BusUsers.map((u) => [u, existing[u] ?? randomBytes(24).toString("hex")])) as NatsCredentials;
  if (BusUsers.some((u) => existing[u] === undefined)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  }
  return creds;
}

export function readCredentials(file: string): NatsCredentials {
  return JSON.parse(fs.readFileSync(file, "utf8")) as NatsCredentials;
}

/** The part of a node's /jsz answer that says who leads the meta group and who follows it. */
interface JszMeta {
  meta_cluster?: { leader?: string; replicas?: { name: string; current: boolean; offline?: boolean }[] };
}

/**
 * Starts nats-server with JetStream, alone or as a cluster of `size` nodes on loopback ports, with
 * authentication and per-service permissions (bus-permissions.ts) on every node. A cluster is
 * ready when every node reports healthy, which needs a JetStream meta leader.
 */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsCluster> {
  const size = opts.size ?? 1;
  const binary = opts.binary ?? requireBinary("nats-server");
  const credentialsFile = path.join(opts.dataDir, "credentials.json");
  const credentials = loadOrCreateCredentials(credentialsFile);
  const routeFile = path.join(opts.dataDir, "route-password");
  if (!fs.existsSync(routeFile)) fs.writeFileSync(routeFile, randomBytes(24).toString("hex"), { mode: 0o600 });
  const routePassword = fs.readFileSync(routeFile, "utf8").trim();
  const auth = renderNatsAuthorization((u) => JSON.stringify(credentials[u]));

  // Fixed ports (a local run) count up from the first node's; a test run takes free ones.
  const plan: { name: string; port: number; monitorPort: number; clusterPort: number }[] = [];
  for (let i = 0; i < size; i++) {
    plan.push({
      name: size === 1 ? "palimpsest-local" : `palimpsest-n${i + 1}`,
      port: opts.port !== undefined ? opts.port + i : await freePort(),
      monitorPort: opts.monitorPort !== undefined ? opts.monitorPort + i : await freePort(),
      clusterPort: opts.clusterPort !== undefined ? opts.clusterPort + i : await freePort(),
    });
  }

  const nodes: NatsNode[] = plan.map((p) => {
    const dir = size === 1 ? opts.dataDir : path.join(opts.dataDir, p.name);
    const storeDir = path.join(dir, "jetstream");
    fs.mkdirSync(storeDir, { recursive: true });
    const conf = path.join(dir, "nats.conf");
    fs.writeFileSync(
      conf,
      [
        `server_name: ${p.name}`,
        `listen: "127.0.0.1:${p.port}"`,
        `http: "127.0.0.1:${p.monitorPort}"`,
        // A large paste makes a large Yjs update; the services enforce their own, smaller limits.
        "max_payload: 8MB",
        // NATS_PROF_PORT (diagnosis): Go's profiler on this port of 127.0.0.1 (node i: plus i), for `go tool pprof`.
        ...(process.env["NATS_PROF_PORT"] ? [`prof_port: ${Number(process.env["NATS_PROF_PORT"]) + plan.indexOf(p)}`] : []),
        "jetstream {",
        `  store_dir: ${JSON.stringify(storeDir)}`,
        "  max_memory_store: 256MB",
        "  max_file_store: 20GB",
        "}",
        ...(size > 1
          ? [
              "cluster {",
              "  name: palimpsest",
              `  listen: "127.0.0.1:${p.clusterPort}"`,
              `  authorization { user: route, password: ${JSON.stringify(routePassword)} }`,
              // Every other node: a node listed as its own route only adds duplicate connections to prune.
              `  routes: [${plan.filter((q) => q !== p).map((q) => JSON.stringify(`nats-route://route:${routePassword}@127.0.0.1:${q.clusterPort}`)).join(", ")}]`,
              "}",
            ]
          : []),
        auth,
      ].join("\n"),
      { mode: 0o600 },
    );
    const spawnNode = () =>
      new ManagedProcess({ name: `nats-server ${p.name}`, command: binary, args: ["-c", conf], logFile: path.join(opts.logDir, `nats-${p.name}.log`) });
    const node: { -readonly [K in keyof NatsNode]: NatsNode[K] } = {
      ...p,
      process: spawnNode(),
      async restart() {
        if (node.process.running) return;
        node.process = spawnNode();
        await waitHealthy([node]);
        await waitMetaComplete(false);
      },
    };
    return node;
  });

  async function waitHealthy(which: NatsNode[]): Promise<void> {
    await Promise.all(
      which.map((n) =>
        waitUntil(
          n.name,
          async () => (await fetch(`http://127.0.0.1:${n.monitorPort}/healthz`)).ok,
          { process: n.process, timeoutMs: 60_000 },
        ),
      ),
    );
  }

  // Healthy nodes can still be a meta group that has not heard from every peer, and a 3-replica
  // stream created then fails with "no suitable peers for placement".
  async function waitMetaComplete(heal = true): Promise<void> {
    if (size === 1) return;
    const metaOf = async (n: NatsNode) =>
      ((await fetch(`http://127.0.0.1:${n.monitorPort}/jsz`).then((r) => r.json()).catch(() => ({}))) as JszMeta).meta_cluster;
    const complete = async () => {
      for (const n of nodes) {
        const meta = await metaOf(n);
        if (meta?.leader !== n.name) continue;
        return (meta.replicas ?? []).filter((r) => r.current && !r.offline).length === size - 1;
      }
      return false;
    };
    try {
      await waitUntil("the JetStream meta group", complete, { timeoutMs: 30_000 });
      return;
    } catch {
      // On a crowded machine nats-server 2.10 has been seen to leave a node out of a new meta group
      // for good (the leader lists one follower; the third says it follows that leader). Starting
      // the left-out node again joins it, as an operator would.
    }
    const metas = await Promise.all(nodes.map(async (n) => ({ node: n, meta: await metaOf(n) })));
    const leader = metas.find((m) => m.meta?.leader === m.node.name);
    if (heal && leader) {
      const listed = new Set([leader.node.name, ...(leader.meta?.replicas ?? []).filter((r) => r.current && !r.offline).map((r) => r.name)]);
      for (const n of nodes) {
        if (listed.has(n.name)) continue;
        await n.process.stop();
        await n.restart();
      }
    }
    try {
      await waitUntil("the JetStream meta group", complete, { timeoutMs: 60_000 });
    } catch (err) {
      const seen = await Promise.all(nodes.map(async (n) => `${n.name}: ${JSON.stringify(await metaOf(n))}`));
      throw new Error(`${(err as Error).message}\n${seen.join("\n")}`);
    }
  }

  try {
    await waitHealthy(nodes);
    await waitMetaComplete();
  } catch (err) {
    await Promise.all(nodes.map((n) => n.process.stop()));
    throw err;
  }
  const servers = nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  return {
    url: servers.join(","),
    nodes,
    credentials,
    credentialsFile,
    connectOptions: (user) => ({ servers, user, pass: credentials[user], inboxPrefix: inboxPrefixOf(user) }),
    async stop() {
      await Promise.all(nodes.map((n) => n.process.stop()));
    },
  };
}

/**
 * Connection options for a bus user from a store environment (NATS_URL and, when the run's NATS
 * requires it, NATS_CREDENTIALS_FILE): how tests, benchmarks and tools look into the streams.
 */
export function natsOptionsFromEnv(env: Record<string, string | undefined>, user: BusUser = "admin"): { servers: string[]; user?: string; pass?: string; inboxPrefix?: string } {
  const servers = (env["NATS_URL"] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  const file = env["NATS_CREDENTIALS_FILE"];
  if (!file) return { servers };
  return { servers, user, pass: readCredentials(file)[user], inboxPrefix: inboxPrefixOf(user) };
}

/** NATS_USER and NATS_PASSWORD of a bus user, for a tool started as a child process (a script under test). */
export function natsUserEnv(env: Record<string, string | undefined>, user: BusUser = "admin"): Record<string, string> {
  const o = natsOptionsFromEnv(env, user);
  return o.user === undefined ? {} : { NATS_USER: o.user, NATS_PASSWORD: o.pass ?? "" };
}
