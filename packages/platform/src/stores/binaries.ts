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
