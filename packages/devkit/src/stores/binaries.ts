import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export function which(cmd: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Debian keeps PostgreSQL's server binaries out of PATH, under /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((v) => fs.existsSync(path.join(root, v, "bin", "postgres")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], "bin");
  }
  const onPath = which("postgres");
  if (onPath) return path.dirname(fs.realpathSync(onPath));
  throw new Error("PostgreSQL server binaries not found; run `npm run setup`");
}

export function requireBinary(cmd: string): string {
  const found = which(cmd);
  if (!found) throw new Error(`${cmd} not found; run \`npm run setup\``);
  return found;
}

/** PostgreSQL refuses to run as root, so as root we run it as the `postgres` system user. */
export function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

/**
 * The nats-server versions the project tests against: Debian 12's from PATH, and Debian 13's 2.10
 * that scripts/fetch-nats-server.sh unpacks under .tools/ (named even when missing, so a test
 * on it fails saying how to get it instead of being skipped).
 */
export function natsServerBinaries(root: string): { version: string; path: string }[] {
  const out: { version: string; path: string }[] = [];
  const system = which("nats-server");
  if (system) out.push({ version: versionOf(system), path: system });
  const tools = path.join(root, ".tools");
  const unpacked = fs.existsSync(tools)
    ? fs.readdirSync(tools).filter((d) => /^nats-server-2\.10\.\d+$/.test(d)).sort().map((d) => path.join(tools, d, "usr", "sbin", "nats-server"))
    : [];
  const latest = unpacked.filter((p) => fs.existsSync(p)).at(-1);
  out.push(latest ? { version: versionOf(latest), path: latest } : { version: "2.10 (missing: run scripts/fetch-nats-server.sh)", path: path.join(tools, "nats-server-2.10") });
  return out;
}

function versionOf(binary: string): string {
  return /v(\d+\.\d+\.\d+)/.exec(execFileSync(binary, ["--version"], { encoding: "utf8" }))?.[1] ?? "unknown";
}
