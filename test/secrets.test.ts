import { afterAll, beforeAll, describe, expect, it, inject, vi } from "vitest";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import pg from "pg";
import { decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";
import { repoRoot, serviceDatabaseEnv } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";

const ctx = useSystem("secrets");
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: inject("storeEnv")["DATABASE_URL"] });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
});

/** Whether a stored value is a private key anyone reading the table could sign with. */
function readablePrivateKey(stored: string): boolean {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(stored)) return true;
  try {
    const jwk = JSON.parse(stored) as { d?: unknown };
    return typeof jwk.d === "string";
  } catch {
    return false;
  }
}

async function storedKeys(): Promise<{ kid: string; private_jwk: string }[]> {
  return (await admin.query<{ kid: string; private_jwk: string }>("select kid, private_jwk from auth.signing_keys order by created_at desc")).rows;
}

async function asService(service: string, query: string): Promise<unknown> {
  const url = serviceDatabaseEnv(inject("storeEnv"), service)["DATABASE_URL"];
  if (!url) throw new Error(`no database role for ${service}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(query)).rows;
  } finally {
    await client.end();
  }
}

describe("signing keys at rest", () => {
  it("stores private keys sealed, and still signs and rotates with them", async () => {
    const { api, auth } = await ctx.anon.newUser("Sealed");
    const rows = await storedKeys();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(readablePrivateKey(r.private_jwk)).toBe(false);
      expect(r.private_jwk).toMatch(/^enc:v1:/);
    }
    expect(rows.map((r) => r.kid)).toContain(decodeProtectedHeader(auth.accessToken).kid);
    expect((await api.get("/api/docs")).status).toBe(200);

    const storeEnv = inject("storeEnv");
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/rotate-signing-key.ts"], {
      cwd: repoRoot,
      env: { ...process.env, ...serviceDatabaseEnv(storeEnv, "auth"), SIGNING_KEY_ENCRYPTION_KEY: storeEnv["SIGNING_KEY_ENCRYPTION_KEY"] },
    });
    const newKid = /new signing key (\S+)/.exec(stdout)?.[1];
    expect(newKid).toBeDefined();
    const rotated = (await storedKeys()).find((r) => r.kid === newKid);
    expect(rotated && readablePrivateKey(rotated.private_jwk)).toBe(false);
    await vi.waitFor(async () => {
      const login = await ctx.anon.post<{ accessToken: string }>("/api/auth/login", { email: auth.user.email, password: "correct horse battery staple" });
      expect(decodeProtectedHeader(login.body.accessToken).kid).toBe(newKid);
    }, { timeout: 10_000, interval: 200 });
  });

  it("seals a key stored in plaintext before encryption when auth starts, and keeps signing with it", async () => {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const kid = `legacy-${Date.now()}`;
    const priv = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA" };
    const pub = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
    await admin.query("insert into auth.signing_keys (kid, private_jwk, public_jwk, created_at) values ($1, $2, $3, now() + interval '1 second')", [kid, JSON.stringify(priv), JSON.stringify(pub)]);

    const auth = ctx.system.byName("auth")[0]!;
    await auth.process.stop();
    await ctx.system.start();

    const row = (await storedKeys()).find((r) => r.kid === kid);
    expect(row && readablePrivateKey(row.private_jwk)).toBe(false);
    const { api, auth: session } = await ctx.anon.newUser("After");
    expect(decodeProtectedHeader(session.accessToken).kid).toBe(kid);
    expect((await api.get("/api/docs")).status).toBe(200);
  });
});

describe("database roles", () => {
  it("a service's role cannot read another service's tables", async () => {
    await expect(asService("docs", "select * from auth.users limit 1")).rejects.toThrow(/permission denied/);
    await expect(asService("files", "select * from auth.signing_keys limit 1")).rejects.toThrow(/permission denied/);
    await expect(asService("history", "select * from docs.documents limit 1")).rejects.toThrow(/permission denied/);
    await expect(asService("auth", "select * from history.edit_log limit 1")).rejects.toThrow(/permission denied/);
    // Its own tables it reads by their bare names.
    await expect(asService("auth", "select count(*) from users")).resolves.toHaveLength(1);
    await expect(asService("docs", "select count(*) from documents")).resolves.toHaveLength(1);
  });
});

describe("store credentials outside a local run", () => {
  /** Starts a service's main as the image would, with only `env`, and returns what it printed on exit. */
  function runService(service: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", path.join("services", service, "src", "main.ts")], {
        cwd: repoRoot,
        env: { PATH: process.env["PATH"] ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${service} did not refuse to start: ${output}`));
      }, 30_000);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  it("a service in production refuses the built-in database and S3 credentials with a clear error", async () => {
    const key = inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"]!;
    const auth = await runService("auth", { NODE_ENV: "production", SIGNING_KEY_ENCRYPTION_KEY: key });
    expect(auth.code).not.toBe(0);
    expect(auth.output).toMatch(/DATABASE_URL is unset or has the built-in local password/);

    const files = await runService("files", { NODE_ENV: "production", DATABASE_URL: "postgres://files:palimpsest@127.0.0.1:1/palimpsest" });
    expect(files.code).not.toBe(0);
    expect(files.output).toMatch(/DATABASE_URL is unset or has the built-in local password/);
    expect(files.output).toMatch(/S3_ACCESS_KEY_ID \/ S3_SECRET_ACCESS_KEY are unset or the built-in local ones/);
  });
});
