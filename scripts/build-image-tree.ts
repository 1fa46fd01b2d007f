/**
 * Builds the file tree of the container image into a folder: what the Dockerfile's build stage
 * runs (`RUN npx tsx scripts/build-image-tree.ts /out`) and what test/deploy/image-tree.test.ts
 * runs before starting every service from that folder alone.
 *
 *   <out>/package.json        {"type": "module"}: the bundles are ES modules
 *   <out>/entrypoint.js       runs one command: `node entrypoint.js sync`, or SERVICE=sync
 *   <out>/dist/<command>.js   one esbuild bundle per service and operator command (workspace code
 *                             bundled, npm packages left as imports), with source maps
 *   <out>/node_modules/       exactly the npm packages the bundles import and what those need,
 *                             copied from this checkout's node_modules along package-lock.json
 *                             (native ones such as sharp and argon2 as installed), no dev tools
 *   <out>/web/dist/           the production web build the gateway serves (WEB_DIST)
 *
 * Usage: tsx scripts/build-image-tree.ts <out-folder>   (the folder must be empty or absent)
 */
import fs from "node:fs";
import { isBuiltin } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import semver from "semver";
import { ensureWebBuilt } from "./web-build.ts";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));

export const SERVICES = ["gateway", "auth", "docs", "sync", "files", "history"] as const;

/** Every command the image runs, and the source it is bundled from. */
export const IMAGE_COMMANDS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(SERVICES.map((s) => [s, `services/${s}/src/main.ts`])),
  "setup-streams": "scripts/setup-streams.ts",
  "rebuild-projections": "scripts/rebuild-projections.ts",
  "rotate-signing-key": "scripts/rotate-signing-key.ts",
};

/** Node's flags in the image (the Dockerfile's ENTRYPOINT uses the same). */
export const NODE_FLAGS = ["--enable-source-maps"] as const;

interface LockEntry {
  version?: string;
  link?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface ImageTreeReport {
  out: string;
  commands: string[];
  /** npm packages the bundles import directly. */
  imported: string[];
  /** Where every package was copied to, under <out> (node_modules/...). */
  packages: string[];
  bytes: { dist: number; nodeModules: number; web: number };
  ms: { web: number; bundle: number; nodeModules: number; total: number };
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? specifier);
}

/** Where Node finds `name` when required from the package at lock path `from` (node_modules lookup upwards). */
function resolveInLock(lock: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ""}node_modules/${name}`;
    if (lock[candidate]) return candidate;
    if (base === "") return undefined;
    const idx = base.lastIndexOf("node_modules/");
    base = idx <= 0 ? "" : base.slice(0, idx - 1);
  }
}

/** The workspace (lock path, "" for the root) a repository file belongs to. */
function workspaceOf(lock: Record<string, LockEntry>, file: string): string {
  let best = "";
  for (const key of Object.keys(lock)) {
    if (key === "" || key.includes("node_modules")) continue;
    if ((file.startsWith(`${key}/`) || file === key) && key.length > best.length) best = key;
  }
  return best;
}

/** The version range a workspace's package.json asks for. */
function declaredRange(workspace: string, name: string): string | undefined {
  if (workspace === "") return undefined;
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, workspace, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  return manifest.dependencies?.[name];
}

/**
 * The packages a workspace may import in the image: its "dependencies". The operator scripts at
 * the root run the services' code, so they may import what any service or package lists.
 */
function productionDependencies(workspace: string): Set<string> {
  const read = (ws: string) =>
    Object.keys((JSON.parse(fs.readFileSync(path.join(repoRoot, ws, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {});
  if (workspace !== "") return new Set(read(workspace));
  const all = ["packages/contracts", "packages/platform", ...SERVICES.map((s) => `services/${s}`)];
  return new Set(all.flatMap(read));
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** Files a running program never reads: type declarations and the sources of source maps. */
function keepInImage(file: string): boolean {
  return !/\.d\.[cm]?ts$/.test(file) && !/\.d\.ts\.map$/.test(file);
}

export async function buildImageTree(out: string, only: readonly string[] = Object.keys(IMAGE_COMMANDS)): Promise<ImageTreeReport> {
  const started = performance.now();
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) throw new Error(`${out} is not empty`);
  fs.mkdirSync(out, { recursive: true });
  const chosen = Object.entries(IMAGE_COMMANDS).filter(([command]) => only.includes(command));
  for (const [command, source] of chosen) {
    if (!fs.existsSync(path.join(repoRoot, source))) throw new Error(`image command ${command}: ${source} does not exist`);
  }

  // 1. The production web build (rebuilt only when its sources changed).
  let t = performance.now();
  ensureWebBuilt();
  fs.cpSync(path.join(repoRoot, "web", "dist"), path.join(out, "web", "dist"), { recursive: true });
  const webMs = performance.now() - t;

  // 2. One bundle per command: workspace TypeScript compiled in, every npm package an import.
  t = performance.now();
  const result = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: Object.fromEntries(chosen),
    outdir: path.join(out, "dist"),
    bundle: true,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    keepNames: true,
    metafile: true,
    logLevel: "warning",
    plugins: [
      {
        name: "npm-packages-external",
        setup(build) {
          // Bare specifiers that are not workspace packages stay imports, resolved from node_modules at run time.
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith("@palimpsest/")) return undefined;
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const bundleMs = performance.now() - t;

  // 3. node_modules: the imported packages and their dependency closure, along package-lock.json.
  t = performance.now();
  const lock = (JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> }).packages;
  const imported = new Set<string>();
  const closure = new Set<string>();
  /** Who needs each package, and which versions they accept. */
  const wantedBy = new Map<string, { by: string; range: string }[]>();
  const need = (at: string, by: string, range: string | undefined) => {
    const list = wantedBy.get(at) ?? [];
    list.push({ by, range: range ?? "*" });
    wantedBy.set(at, list);
  };
  const queue: string[] = [];
  const problems: string[] = [];
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    for (const imp of input.imports) {
      // "<runtime>" is esbuild's own helper (keepNames), not a package.
      if (!imp.external || isBuiltin(imp.path) || imp.path.startsWith("<")) continue;
      const name = packageNameOf(imp.path);
      imported.add(name);
      const ws = workspaceOf(lock, file);
      if (!productionDependencies(ws).has(name)) problems.push(`${file} imports ${name}, which ${ws || "no service or package"} does not list in "dependencies"`);
      const at = resolveInLock(lock, ws, name);
      if (at) need(at, ws || "(root)", declaredRange(ws, name));
      if (!at) problems.push(`${file} imports ${name}, which package-lock.json does not have`);
      else if (!closure.has(at)) {
        closure.add(at);
        queue.push(at);
      }
    }
  }
  while (queue.length > 0) {
    const at = queue.shift() as string;
    const entry = lock[at] as LockEntry;
    if (entry.link) {
      problems.push(`${at} is a workspace link; workspace packages are bundled, not installed`);
      continue;
    }
    const wanted: [string, boolean, string][] = [
      ...Object.entries(entry.dependencies ?? {}).map(([n, r]): [string, boolean, string] => [n, false, r]),
      ...Object.entries(entry.optionalDependencies ?? {}).map(([n, r]): [string, boolean, string] => [n, true, r]),
      ...Object.entries(entry.peerDependencies ?? {}).map(([n, r]): [string, boolean, string] => [n, entry.peerDependenciesMeta?.[n]?.optional === true, r]),
    ];
    for (const [name, optional, range] of wanted) {
      const dep = resolveInLock(lock, at, name);
      if (dep) need(dep, at, range);
      if (!dep) {
        if (!optional) problems.push(`${at} needs ${name}, which package-lock.json does not have`);
        continue;
      }
      // Optional packages for other platforms (sharp's and argon2's other binaries) are in the lock, not on disk.
      if (!fs.existsSync(path.join(repoRoot, dep))) {
        if (!optional && !lock[dep]?.optional) problems.push(`${dep} is in package-lock.json but not installed (run npm ci)`);
        continue;
      }
      if (!closure.has(dep)) {
        closure.add(dep);
        queue.push(dep);
      }
    }
  }
  // The bundles mix every workspace's code and resolve packages from <out>/node_modules alone, so a
  // package npm installed under a workspace (packages/platform/node_modules/x, beside another
  // version at the root) moves up to node_modules/x: fine as long as no other version is needed.
  // When two versions meet there, the one every dependent of either accepts is kept.
  const byTarget = new Map<string, string[]>();
  const discarded: string[] = [];
  // Shallow paths first, so a version left out takes the packages nested inside it along.
  for (const at of [...closure].sort((a, b) => a.split("/node_modules/").length - b.split("/node_modules/").length)) {
    const to = at.startsWith("node_modules/") ? at : at.slice(at.indexOf("node_modules/"));
    byTarget.set(to, [...(byTarget.get(to) ?? []), at]);
  }
  const placed = new Map<string, string>();
  for (const [to, all] of byTarget) {
    const candidates = all.filter((c) => !discarded.some((d) => c.startsWith(`${d}/`)));
    if (candidates.length === 0) continue;
    const dependents = candidates.flatMap((c) => wantedBy.get(c) ?? []);
    const fits = candidates.filter((c) => dependents.every((d) => semver.satisfies(lock[c]?.version ?? "0.0.0", d.range, { includePrerelease: true })));
    if (fits[0] === undefined) {
      problems.push(`${candidates.map((c) => `${c} (${lock[c]?.version})`).join(" and ")} would all be ${to}, and none satisfies ${dependents.map((d) => `${d.by} (${d.range})`).join(", ")}: align the versions in the workspaces' package.json`);
      continue;
    }
    placed.set(to, fits[0]);
    discarded.push(...candidates.filter((c) => c !== fits[0]));
  }
  if (problems.length > 0) throw new Error(`the image's node_modules cannot be assembled:\n  ${problems.join("\n  ")}`);
  const packages = [...placed.keys()].sort();
  for (const to of packages) {
    const at = placed.get(to) as string;
    const from = path.join(repoRoot, at);
    fs.cpSync(from, path.join(out, to), {
      recursive: true,
      verbatimSymlinks: true,
      // Nested node_modules are copied as packages of their own, only when they are in the closure.
      filter: (src) => src !== path.join(from, "node_modules") && keepInImage(src),
    });
  }
  const nodeModulesMs = performance.now() - t;

  // 4. The package manifest (ES modules) and the entry point that picks the command.
  const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
  fs.writeFileSync(
    path.join(out, "package.json"),
    `${JSON.stringify({ name: "palimpsest-image", version, private: true, type: "module" }, null, 2)}\n`,
  );
  const commands = chosen.map(([command]) => command);
  fs.writeFileSync(
    path.join(out, "entrypoint.js"),
    `// Generated by scripts/build-image-tree.ts. Runs one command of the image:
//   node entrypoint.js <command> [args...]    or    SERVICE=<command> node entrypoint.js [args...]
const commands = ${JSON.stringify(commands)};
const given = process.argv[2];
let command = process.env.SERVICE;
if (given !== undefined && commands.includes(given)) {
  command = given;
  process.argv.splice(2, 1); // the command sees its own arguments from argv[2] on, as under tsx
}
if (command === undefined || command === "" || !commands.includes(command)) {
  console.error(\`unknown command \${JSON.stringify(command ?? "")}: give one of \${commands.join(", ")} as the first argument, or set SERVICE\`);
  process.exit(64);
}
await import(\`./dist/\${command}.js\`);
`,
  );

  return {
    out,
    commands,
    imported: [...imported].sort(),
    packages,
    bytes: {
      dist: folderBytes(path.join(out, "dist")),
      nodeModules: folderBytes(path.join(out, "node_modules")),
      web: folderBytes(path.join(out, "web", "dist")),
    },
    ms: { web: webMs, bundle: bundleMs, nodeModules: nodeModulesMs, total: performance.now() - started },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: tsx scripts/build-image-tree.ts <out-folder>");
    process.exit(64);
  }
  const r = await buildImageTree(path.resolve(out));
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  console.log(`image tree in ${r.out} (${Math.round(r.ms.total)} ms)`);
  console.log(`  commands: ${r.commands.join(", ")}`);
  console.log(`  dist: ${mb(r.bytes.dist)} bundled in ${Math.round(r.ms.bundle)} ms`);
  console.log(`  node_modules: ${r.packages.length} packages (${r.imported.length} imported directly), ${mb(r.bytes.nodeModules)} in ${Math.round(r.ms.nodeModules)} ms`);
  console.log(`  web/dist: ${mb(r.bytes.web)} in ${Math.round(r.ms.web)} ms`);
}
