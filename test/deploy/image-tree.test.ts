/**
 * The container image's file tree, built by the script the Dockerfile runs, into a folder outside
 * the repository: every service starts from that folder alone (no TypeScript loader, no repository
 * node_modules within reach), as an unprivileged user that cannot write into it, against this run's
 * real stores; then a person signs up (by the emailed link, as production does), creates a
 * document, uploads an image and co-edits through the gateway.
 */
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { AuthResult, FileView } from "@palimpsest/contracts";
import { ManagedProcess, TestApi, freePort, natsUserEnv, repoRoot, serviceDatabaseEnv, waitUntil } from "@palimpsest/devkit";
import { IMAGE_COMMANDS, NODE_FLAGS, SERVICES } from "../../scripts/build-image-tree.ts";
import { connectClient, type CollabClient } from "../collab-client.ts";
import { tokenIn, waitForMail } from "../mail-helpers.ts";

type Service = (typeof SERVICES)[number];

let work: string;
let tree: string;
let buildOutput = "";
let buildMs = 0;
let before: Map<string, string>;
const procs = new Map<Service, ManagedProcess>();
const ports = new Map<Service, number>();
const clients: CollabClient[] = [];

/** Who the services run as: an unprivileged user when the tests run as root, as the image's USER does. */
const runAs = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/** Every file in the tree with its size and modification time. */
function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    const st = fs.lstatSync(p);
    out.set(path.relative(dir, p), `${st.size}:${st.mtimeMs}`);
  }
  return out;
}

/** Where the stores are, as a container gets it: its own NATS user and password, never the run's credentials file. */
function containerStoreEnv(user: Service | "admin"): Record<string, string> {
  const { NATS_CREDENTIALS_FILE: _file, ...storeEnv } = inject("storeEnv");
  return { ...storeEnv, ...natsUserEnv(inject("storeEnv"), user) };
}

/** Keys only this run knows, for the services that refuse built-in ones in production. */
const RUN_KEYS = { webhook: randomBytes(32).toString("base64"), audit: randomBytes(32).toString("base64") };

/**
 * The environment of a container: the stores, the service's port, and nothing from this test
 * process. As in production, each service gets its own database role and only auth the key
 * sealing signing keys (a production service refuses the built-in credentials).
 */
function serviceEnv(name: Service, tmp: string): Record<string, string> {
  const { DATABASE_URL: _admin, LOCAL_SECRETS_FILE: _secrets, SIGNING_KEY_ENCRYPTION_KEY: sealKey, ...stores } = containerStoreEnv(name);
  const env: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    NODE_ENV: "production",
    TMPDIR: tmp,
    HOME: tmp,
    ...stores,
    ...serviceDatabaseEnv(inject("storeEnv"), name),
    ...(name === "auth" && sealKey ? { SIGNING_KEY_ENCRYPTION_KEY: sealKey } : {}),
    // Production refuses the built-in keys: each of these services gets its own, as from a Secret.
    ...(name === "docs" ? { WEBHOOK_SIGNING_KEY: RUN_KEYS.webhook } : {}),
    ...(name === "history" ? { AUDIT_KEY_ENCRYPTION_KEY: RUN_KEYS.audit } : {}),
    HOST: "127.0.0.1",
    PORT: String(ports.get(name)),
    REPLICA_ID: `image-${name}`,
    LOG_LEVEL: "info",
    WEB_DIST: path.join(tree, "web", "dist"),
    RATE_LIMIT_AUTH_PER_WINDOW: "100000",
  };
  if (name === "gateway") {
    env["SYNC_URLS"] = `ws://127.0.0.1:${ports.get("sync")}`;
    env["FILES_URLS"] = `http://127.0.0.1:${ports.get("files")}`;
  }
  return env;
}

const startMs = new Map<Service, number>();

async function start(name: Service, logDir: string, tmp: string): Promise<void> {
  const started = performance.now();
  const proc = new ManagedProcess({
    name: `image-${name}`,
    command: process.execPath,
    // The Dockerfile's ENTRYPOINT and a Deployment's args: node <flags> /app/entrypoint.js <service>.
    args: [...NODE_FLAGS, path.join(tree, "entrypoint.js"), name],
    cwd: tree,
    env: serviceEnv(name, tmp),
    logFile: path.join(logDir, `image-${name}.log`),
    ...runAs,
  });
  procs.set(name, proc);
  await waitUntil(`image ${name}`, async () => (await fetch(`http://127.0.0.1:${ports.get(name)}/readyz`)).status === 200, {
    process: proc,
    timeoutMs: 60_000,
    intervalMs: 150,
  });
  startMs.set(name, performance.now() - started);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-image-"));
  fs.chmodSync(work, 0o755);
  tree = path.join(work, "app");
  const started = performance.now();
  // Exactly the Dockerfile's build step, as its own process.
  buildOutput = execFileSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts", "build-image-tree.ts"), tree], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, NODE_ENV: "production" },
    timeout: 170_000,
  });
  buildMs = performance.now() - started;
  before = listing(tree);

  const tmp = path.join(work, "tmp");
  fs.mkdirSync(tmp, { mode: 0o1777 });
  fs.chmodSync(tmp, 0o1777);
  const logDir = path.join(inject("dataDir"), "logs", "image-tree");
  fs.mkdirSync(logDir, { recursive: true });
  fs.chmodSync(logDir, 0o777);
  for (const s of SERVICES) ports.set(s, await freePort());
  // Auth first (the others verify tokens with its keys), the gateway last, as in the cluster.
  await start("auth", logDir, tmp);
  await Promise.all((["docs", "sync", "files", "history"] as const).map((s) => start(s, logDir, tmp)));
  await start("gateway", logDir, tmp);
}, 240_000);

afterAll(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all([...procs.values()].map((p) => p.stop()));
  if (work && !process.env["KEEP_TEST_DATA"]) fs.rmSync(work, { recursive: true, force: true });
});

describe("the image's file tree", () => {
  it("holds bundles, production packages and the web build, and no TypeScript or development tools", () => {
    console.error(`image tree built in ${Math.round(buildMs)} ms:\n${buildOutput}`);
    console.error(`ready from the tree: ${[...startMs].map(([s, ms]) => `${s} ${Math.round(ms)} ms`).join(", ")}`);
    const files = [...before.keys()];
    expect(files.filter((f) => !f.startsWith("node_modules/") && /\.[cm]?ts$/.test(f))).toEqual([]);
    for (const command of Object.keys(IMAGE_COMMANDS)) expect(files).toContain(`dist/${command}.js`);
    expect(files).toContain("web/dist/index.html");
    expect(files).toContain("entrypoint.js");
    for (const dev of ["tsx", "typescript", "vitest", "vite", "esbuild", "eslint", "kubernetes-models", "@palimpsest/platform"]) {
      expect(fs.existsSync(path.join(tree, "node_modules", dev)), dev).toBe(false);
    }
    // Native packages arrive as npm installed them.
    expect(fs.existsSync(path.join(tree, "node_modules", "sharp", "package.json"))).toBe(true);
    expect(fs.existsSync(path.join(tree, "node_modules", "@node-rs", "argon2", "package.json"))).toBe(true);
  });

  it("refuses an unknown command and names the ones it has", () => {
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [path.join(tree, "entrypoint.js"), "nonsense"], { cwd: tree, encoding: "utf8", stdio: "pipe", env: { PATH: "/usr/bin:/bin" } });
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(64);
    expect(failure?.stderr).toContain("gateway, auth, docs, sync, files, history");
  });

  it("runs the stream set-up command with the admin user, as the Kubernetes Job does", () => {
    const out = execFileSync(process.execPath, [...NODE_FLAGS, path.join(tree, "entrypoint.js"), "setup-streams"], {
      cwd: tree,
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", NODE_ENV: "production", ...containerStoreEnv("admin"), LOG_LEVEL: "info" },
      timeout: 60_000,
      ...runAs,
    });
    for (const stream of ["EDITS", "DOCS", "AUTH"]) expect(out).toMatch(new RegExp(`"stream":"${stream}"`));
  });

  it("every service started from the tree alone is ready, and each runs compiled JavaScript from it", async () => {
    for (const s of SERVICES) {
      const res = await fetch(`http://127.0.0.1:${ports.get(s)}/readyz`);
      expect(res.status, s).toBe(200);
      const proc = procs.get(s)!;
      const cmdline = fs.readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").split("\0");
      expect(cmdline).toContain(path.join(tree, "entrypoint.js"));
      expect(cmdline.join(" ")).not.toContain("tsx");
      if (runAs.uid !== undefined) expect(fs.statSync(`/proc/${proc.pid}`).uid, s).toBe(runAs.uid);
    }
  });

  it("serves the web app and a whole request path through the gateway: sign up, create, upload, co-edit", async () => {
    const gateway = `http://127.0.0.1:${ports.get("gateway")}`;
    const index = await fetch(`${gateway}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain("<div id=\"root\">");

    // In production a registration is confirmed by the emailed link (REGISTRATION_CONFIRMATION's default).
    const anon = new TestApi(gateway);
    const email = `image-${randomUUID()}@example.test`;
    const pending = await anon.post("/api/auth/register", { email, password: "correct horse battery staple", name: "Image Tester" }); // argon2 in auth
    expect(pending.status).toBe(202);
    const created = await anon.post<AuthResult>("/api/auth/register/confirm", { token: tokenIn((await waitForMail(email))[0]!, "/register/confirm/") });
    expect(created.status).toBe(201);
    const auth = created.body;
    const api = anon.withToken(auth.accessToken);
    const doc = await api.createDoc("From the image");
    expect(doc.title).toBe("From the image");

    // A real PNG through the gateway to files, and a thumbnail made by sharp in the tree.
    const raw = Buffer.alloc(64 * 48 * 3, 90);
    const image = await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer();
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(image)], { type: "image/png" }), "tree.png");
    const up = await fetch(`${gateway}/api/docs/${doc.id}/files`, { method: "POST", headers: { authorization: `Bearer ${api.token}` }, body: form });
    expect(up.status).toBe(201);
    const file = (await up.json()) as FileView;
    await vi.waitFor(
      async () => {
        const list = await api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`);
        expect(list.body.items.find((f) => f.id === file.id)?.thumbnail).toBe("ready");
      },
      { timeout: 20_000, interval: 200 },
    );

    // Two clients through the gateway's /collab relay to sync, an edit stored and seen by the other.
    const a = connectClient(gateway, doc.id, auth.accessToken);
    const b = connectClient(gateway, doc.id, auth.accessToken);
    clients.push(a, b);
    await vi.waitFor(() => expect(a.provider.synced && b.provider.synced).toBe(true), { timeout: 15_000, interval: 50 });
    a.doc.getText("t").insert(0, "typed in the image");
    await vi.waitFor(() => expect(b.text()).toBe("typed in the image"), { timeout: 15_000, interval: 50 });

    // History projected the edit from the stream.
    await vi.waitFor(
      async () => {
        const head = await api.get<{ text?: string }>(`/api/docs/${doc.id}/versions/1`);
        expect(head.status).toBe(200);
      },
      { timeout: 20_000, interval: 200 },
    );
  });

  it("nothing the services did wrote into the tree (it runs on a read-only root filesystem)", () => {
    const after = listing(tree);
    const changed = [...after.entries()].filter(([f, v]) => before.get(f) !== v).map(([f]) => f);
    const added = [...after.keys()].filter((f) => !before.has(f));
    expect({ changed, added }).toEqual({ changed: [], added: [] });
  });
});
