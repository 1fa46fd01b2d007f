import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ServiceName } from "@palimpsest/contracts";
import { ManagedProcess, waitUntil } from "./managed-process.ts";
import { tsxLoader } from "./s3-server.ts";
import { readCredentials } from "./nats-server.ts";
import { serviceDatabaseEnv } from "./local-secrets.ts";

export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

export interface ServiceProcessOptions {
  name: ServiceName;
  /** Distinguishes replicas of one service in process names and log files. */
  instance?: string;
  port: number;
  env: Record<string, string>;
  logDir: string;
  readyTimeoutMs?: number;
}

/**
 * Services whose work is throughput, not latency (projections, snapshots, thumbnails): on a
 * machine that runs the whole system, they yield the CPU to the path a keystroke takes.
 */
const BACKGROUND: Partial<Record<ServiceName, number>> = { history: 10, files: 10 };

/**
 * A service is given its own NATS user and password from the run's credentials file, its own
 * database role (none if it keeps no tables), and auth alone the key sealing signing keys; never
 * the files themselves: it must not be able to connect as anyone else.
 */
function serviceEnv(name: ServiceName, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NATS_CREDENTIALS_FILE: file, LOCAL_SECRETS_FILE: _secrets, DATABASE_URL: _db, SIGNING_KEY_ENCRYPTION_KEY: sealKey, ...rest } = env;
  const own = {
    ...rest,
    ...serviceDatabaseEnv(env, name),
    ...(name === "auth" && sealKey !== undefined ? { SIGNING_KEY_ENCRYPTION_KEY: sealKey } : {}),
  };
  if (!file) return own;
  return { ...own, NATS_USER: name, NATS_PASSWORD: readCredentials(file)[name] };
}

/**
 * Whether a process holds the listening TCP socket of a port of this machine (Linux: the socket's
 * inode in /proc/net/tcp among the process's descriptors). Without /proc it cannot tell, and says yes.
 */
export function listensOn(pid: number, port: number): boolean {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const listening = new Set<string>();
  let readable = false;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    readable = true;
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st ... inode: state 0A is LISTEN.
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(hexPort) && f[3] === "0A") listening.add(f[9]!);
    }
  }
  if (!readable) return true;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode !== undefined && listening.has(inode)) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/** Starts one service as its own process from its TypeScript sources and waits until its /readyz answers 200. */
export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ManagedProcess> {
  const label = opts.instance ? `${opts.name}-${opts.instance}` : opts.name;
  const proc = new ManagedProcess({
    name: label,
    command: process.execPath,
    // SERVICE_NODE_ARGS (diagnosis): extra Node flags for every service, such as --cpu-prof or --trace-gc.
    args: [
      ...(process.env["SERVICE_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== ""),
      "--import",
      tsxLoader,
      path.join(repoRoot, "services", opts.name, "src", "main.ts"),
    ],
    cwd: repoRoot,
    env: serviceEnv(opts.name, { ...process.env, ...opts.env, PORT: String(opts.port), REPLICA_ID: label }),
    logFile: path.join(opts.logDir, `${label}.log`),
  });
  const nice = BACKGROUND[opts.name];
  if (nice !== undefined && proc.pid !== undefined) {
    try {
      os.setPriority(proc.pid, nice);
    } catch {
      // Not allowed here (a container without the capability): it then runs at normal priority.
    }
  }
  // What /readyz said last, so a start that times out says which check held it back.
  let lastAnswer = "no answer";
  try {
    await waitUntil(
      label,
      async () => {
        const res = await fetch(`http://127.0.0.1:${opts.port}/readyz`);
        lastAnswer = `${res.status} ${await res.text()}`;
        // Another test's service can hold the port this one was given (it was free when planned):
        // its "ready" would be taken for ours, while ours fails to listen (EADDRINUSE) and exits.
        if (res.status === 200 && proc.pid !== undefined && !listensOn(proc.pid, opts.port)) {
          lastAnswer = `200 from another process on port ${opts.port}`;
          return false;
        }
        return res.status === 200;
      },
      // SERVICE_READY_TIMEOUT_MS (a crowded machine): how long a start may take before it counts as failed.
      { process: proc, timeoutMs: opts.readyTimeoutMs ?? Number(process.env["SERVICE_READY_TIMEOUT_MS"] ?? 60_000), intervalMs: 150 },
    );
  } catch (err) {
    // A service that never became ready must not outlive the attempt.
    await proc.stop(2_000);
    if (err instanceof Error) err.message = err.message.replace("not ready in time", `not ready in time; last /readyz: ${lastAnswer}`);
    throw err;
  }
  return proc;
}
