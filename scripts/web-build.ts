// Makes sure web/dist is the production build of the current web sources, rebuilding it when
// any input is newer: before `npm start` serves it and before the tests start gateways.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const webDir = path.join(repoRoot, "web");
const builtIndex = path.join(webDir, "dist", "index.html");

/** Everything the web build reads: its sources and configuration, and the contracts it imports. */
const INPUTS = [
  ...["src", "public", "index.html", "vite.config.ts", "package.json", "tsconfig.json"].map((input) => path.join(webDir, input)),
  path.join(repoRoot, "packages", "contracts", "src"),
  path.join(repoRoot, "packages", "contracts", "package.json"),
];

function newestMtime(file: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)));
  return newest;
}

/** Why web/dist must be rebuilt, or null when it is up to date. */
export function staleReason(): string | null {
  if (!fs.existsSync(builtIndex)) return "web/dist/index.html is missing";
  const built = fs.statSync(builtIndex).mtimeMs;
  for (const input of INPUTS) {
    if (newestMtime(input) > built) return `${path.relative(repoRoot, input)} changed after the last build`;
  }
  return null;
}

/** Runs `npm run build -w web` when web/dist is missing or older than any web source. */
export function ensureWebBuilt(): void {
  const reason = staleReason();
  if (reason === null) return;
  try {
    // Always a production build: run from the test runner, NODE_ENV is "test", and Vite would
    // bundle React's development build and leave out everything behind import.meta.env.PROD.
    execFileSync("npm", ["run", "build", "-w", "web"], {
      cwd: repoRoot,
      stdio: "pipe",
      encoding: "utf8",
      timeout: 170_000,
      env: { ...process.env, NODE_ENV: "production" },
    });
  } catch (err) {
    const out = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building the web app failed (${reason}): ${out.message}\n${out.stdout ?? ""}\n${out.stderr ?? ""}`);
  }
  const after = staleReason();
  if (after !== null) throw new Error(`web/dist is still out of date after building: ${after}`);
}
