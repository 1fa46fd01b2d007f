import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { ManagedProcess, waitUntil } from "./managed-process.ts";
import { postgresBinDir, postgresUser } from "./binaries.ts";

export interface PostgresServerOptions {
  dataDir: string;
  port: number;
  logFile: string;
  user: string;
  password: string;
  database: string;
  /** Throw-away test clusters skip fsync; a local run keeps it. */
  durable: boolean;
}

function chownRecursive(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownRecursive(p, uid, gid);
    else fs.chownSync(p, uid, gid);
  }
}

export async function startPostgresServer(opts: PostgresServerOptions): Promise<{ url: string; process: ManagedProcess }> {
  const bin = postgresBinDir();
  const owner = postgresUser();
  const clusterDir = path.join(opts.dataDir, "cluster");
  const socketDir = path.join(opts.dataDir, "socket");
  fs.mkdirSync(opts.dataDir, { recursive: true });
  fs.mkdirSync(socketDir, { recursive: true });
  if (owner) {
    // The postgres user must be able to reach its folders through ours.
    for (let dir = opts.dataDir; dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const mode = fs.statSync(dir).mode;
      if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
    }
    chownRecursive(opts.dataDir, owner.uid, owner.gid);
    fs.closeSync(fs.openSync(opts.logFile, "a"));
    fs.chownSync(opts.logFile, owner.uid, owner.gid);
  }
  if (!fs.existsSync(path.join(clusterDir, "PG_VERSION"))) {
    const pwfile = path.join(opts.dataDir, "pwfile");
    fs.writeFileSync(pwfile, `${opts.password}\n`, { mode: 0o600 });
    if (owner) fs.chownSync(pwfile, owner.uid, owner.gid);
    execFileSync(
      path.join(bin, "initdb"),
      ["-D", clusterDir, "-U", opts.user, `--pwfile=${pwfile}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
      { stdio: "ignore", ...(owner ?? {}) },
    );
    fs.rmSync(pwfile);
  }
  const args = [
    "-D", clusterDir,
    "-p", String(opts.port),
    "-k", socketDir,
    "-c", "listen_addresses=127.0.0.1",
    "-c", "max_connections=400",
  ];
  if (!opts.durable) args.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  const proc = new ManagedProcess({
    name: "postgres",
    command: path.join(bin, "postgres"),
    args,
    logFile: opts.logFile,
    ...(owner ?? {}),
  });
  const adminUrl = `postgres://${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/postgres`;
  await waitUntil(
    "postgres",
    async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      try {
        await c.connect();
        await c.query("select 1");
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    { process: proc, timeoutMs: 60_000 },
  );
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query("select 1 from pg_database where datname = $1", [opts.database]);
    if (exists.rowCount === 0) await admin.query(`create database "${opts.database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${opts.database}`,
    process: proc,
  };
}
