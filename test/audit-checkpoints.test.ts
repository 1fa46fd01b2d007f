import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, inject, vi } from "vitest";
import pg from "pg";
import * as Y from "yjs";
import { chainHash, signCheckpoint, type AuditCheckpointLine, type AuditEditLine, type AuditEndLine, type AuditKeySet, type AuditLine } from "@palimpsest/contracts";
import { repoRoot, serviceDatabaseEnv, type TestApi } from "@palimpsest/devkit";
import { storedEdits } from "./stream-helpers.ts";
import { useSystem } from "./system.ts";

/**
 * Signed checkpoints on the audit trail, against the real system: a trail whose edits were all
 * rewritten and re-chained (what whoever holds the file can do) passes the hash-chain check but
 * not the checkpoints the history service signed; old checkpoints verify after a key rotation.
 */
const ctx = useSystem("audit-checkpoints", { env: { AUDIT_CHECKPOINT_EVERY_SECONDS: "1" } });
const patience = { timeout: 20_000, interval: 100 };
let dir: string;
let db: pg.Client;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-audit-checkpoints-"));
  db = new pg.Client({ connectionString: serviceDatabaseEnv(inject("storeEnv"), "history")["DATABASE_URL"] });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function run(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", script, ...args], { cwd: repoRoot, env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let fileNo = 0;
function write(content: string): string {
  const file = path.join(dir, `file-${++fileNo}`);
  fs.writeFileSync(file, content);
  return file;
}
const writeLines = (lines: readonly unknown[]) => write(lines.map((l) => `${typeof l === "string" ? l : JSON.stringify(l)}\n`).join(""));

async function exportTrail(token: string, docId: string): Promise<AuditLine[]> {
  const res = await fetch(`${ctx.system.gatewayUrl()}/api/docs/${docId}/audit`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.text())
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AuditLine);
}

async function auditKeys(): Promise<AuditKeySet> {
  const res = await fetch(`${ctx.system.gatewayUrl()}/.well-known/audit-keys.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toMatch(/public, max-age=\d+/);
  return (await res.json()) as AuditKeySet;
}

/** Edits through a live client until the history service has projected them all. */
async function edit(api: TestApi, token: string, docId: string, texts: string[]): Promise<number> {
  const c = ctx.client(docId, token);
  await vi.waitFor(() => expect(c.provider.synced).toBe(true), patience);
  for (const t of texts) {
    const before = await storedEdits(ctx.jsm, docId);
    c.doc.getText("t").insert(c.doc.getText("t").length, t);
    await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, docId)).toBeGreaterThan(before), patience);
  }
  const n = await storedEdits(ctx.jsm, docId);
  await vi.waitFor(async () => {
    const h = await api.get<{ items: unknown[] }>(`/api/docs/${docId}/history?limit=1000`);
    expect(h.body.items.length).toBe(n);
  }, patience);
  return n;
}

/** What an attacker holding the file can do: new content for every edit, and every hash recomputed to match. */
function rewriteAndRechain(lines: AuditLine[], docId: string): AuditLine[] {
  const forged = new Y.Doc();
  let prev = "0".repeat(64);
  return lines.map((l) => {
    if (l.type === "edit") {
      forged.getText("t").insert(0, `forged ${l.seq} `);
      const update = Buffer.from(Y.encodeStateAsUpdate(forged));
      const hash = chainHash(prev, { docId, seq: l.seq, author: l.author, client: l.client, time: l.time, via: l.via, update });
      const out: AuditEditLine = { ...l, update: update.toString("base64"), prevHash: prev, hash };
      prev = hash;
      return out;
    }
    if (l.type === "end") return { ...l, editHead: prev } satisfies AuditEndLine;
    return l;
  });
}

describe("signed checkpoints on the audit trail", () => {
  let owner: { api: TestApi; token: string };
  let docId: string;
  let edits: number;

  beforeAll(async () => {
    const a = await ctx.anon.newUser("Auditee");
    owner = { api: a.api, token: a.auth.accessToken };
    docId = (await owner.api.createDoc("Signed")).id;
    edits = await edit(owner.api, owner.token, docId, ["one ", "two ", "three "]);
    expect(edits).toBeGreaterThanOrEqual(3);
  });

  it("publishes its public keys with their periods, and never a private part", async () => {
    const set = await auditKeys();
    expect(set.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of set.keys) {
      expect(k).toMatchObject({ kty: "OKP", alg: "EdDSA", crv: "Ed25519", kid: expect.any(String), x: expect.any(String), validFrom: expect.any(String) });
      expect(k).not.toHaveProperty("d");
    }
    expect(set.keys.at(-1)).not.toHaveProperty("validUntil");
    const stored = await db.query<{ private_jwk: string }>("select private_jwk from audit_keys");
    for (const r of stored.rows) expect(r.private_jwk).toMatch(/^enc:v1:/);
  });

  it("signs each edited document's head on its own, every few seconds", async () => {
    const other = (await owner.api.createDoc("Never exported")).id;
    const n = await edit(owner.api, owner.token, other, ["quiet "]);
    await vi.waitFor(async () => {
      const r = await db.query<{ seq: string }>("select seq from audit_checkpoints where doc_id = $1 order by seq desc limit 1", [other]);
      expect(Number(r.rows[0]?.seq)).toBe(n);
    }, patience);
  });

  it("exports the checkpoints after the edits they cover, and the verifier checks them with the published keys", async () => {
    const lines = await exportTrail(owner.token, docId);
    expect(lines[0]).toMatchObject({ type: "header", version: 2 });
    const cps = lines.filter((l): l is AuditCheckpointLine => l.type === "checkpoint");
    expect(cps.at(-1)).toMatchObject({ docId, seq: edits });
    for (const cp of cps) {
      const i = lines.indexOf(cp);
      const before = lines.slice(0, i).filter((l): l is AuditEditLine => l.type === "edit").at(-1);
      expect(before?.seq ?? 0).toBe(cp.seq);
      expect(cp.editHead).toBe(before?.hash);
    }
    const trail = writeLines(lines);
    const keys = write(JSON.stringify(await auditKeys()));

    const signed = await run("scripts/audit.ts", ["verify", trail, "--keys", keys]);
    expect(signed.stdout).toContain(`OK: document ${docId}: ${edits} edits`);
    expect(signed.stdout).toContain(`signed checkpoint(s) verified with the given keys; the last covers edit seq ${edits}`);
    expect(signed.code).toBe(0);

    const unsigned = await run("scripts/audit.ts", ["verify", trail]);
    expect(unsigned.code).toBe(0);
    expect(unsigned.stdout).toContain("signatures were not checked");
  });

  it("a trail whose edits were all rewritten and re-chained fails against the signed checkpoints", async () => {
    const lines = await exportTrail(owner.token, docId);
    const keys = write(JSON.stringify(await auditKeys()));
    const rewritten = rewriteAndRechain(lines, docId);

    // The checkpoints kept: they name the real chain's head.
    const kept = await run("scripts/audit.ts", ["verify", writeLines(rewritten), "--keys", keys]);
    expect(kept.code).toBe(1);
    expect(kept.stdout).toMatch(/checkpoint-mismatch: the signed checkpoint says the chain head after edit seq \d+ was/);

    // The checkpoints dropped: the hash chains alone hold, but nothing signed vouches for them.
    const dropped = writeLines(rewritten.filter((l) => l.type !== "checkpoint"));
    const chainOnly = await run("scripts/audit.ts", ["verify", dropped]);
    expect(chainOnly.code).toBe(0);
    expect(chainOnly.stdout).toContain("0 signed checkpoint(s)");
    const withKeys = await run("scripts/audit.ts", ["verify", dropped, "--keys", keys]);
    expect(withKeys.code).toBe(1);
    expect(withKeys.stdout).toContain(`unsigned-end: no signed checkpoint covers the last edit (seq ${edits}); the file has none`);

    // The checkpoints re-signed by the attacker under the published kid: the signature fails.
    const attacker = generateKeyPairSync("ed25519").privateKey;
    let head = "0".repeat(64);
    const reSigned = rewritten.map((l) => {
      if (l.type === "edit") head = l.hash;
      return l.type === "checkpoint" ? signCheckpoint({ docId, seq: l.seq, editHead: head, at: l.at, kid: l.kid }, attacker) : l;
    });
    const forged = await run("scripts/audit.ts", ["verify", writeLines(reSigned), "--keys", keys]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/checkpoint-signature: the checkpoint of edit seq \d+: the signature does not verify with key/);
  });

  it("after a key rotation, checkpoints signed with the old key still verify with its published period", async () => {
    const before = await auditKeys();
    const oldKid = before.keys.at(-1)?.kid;
    const storeEnv = inject("storeEnv");
    const rotated = await run("scripts/rotate-audit-key.ts", [], { ...process.env, ...serviceDatabaseEnv(storeEnv, "history") });
    expect(rotated.stderr).toBe("");
    const newKid = /new audit signing key (\S+)/.exec(rotated.stdout)?.[1];
    expect(newKid).toBeDefined();

    const after = await auditKeys();
    expect(after.keys.map((k) => k.kid)).toEqual([...before.keys.map((k) => k.kid), newKid]);
    const old = after.keys.find((k) => k.kid === oldKid);
    expect(old?.validUntil).toBe(after.keys.at(-1)?.validFrom);

    const n = await edit(owner.api, owner.token, docId, ["four "]);
    const lines = await exportTrail(owner.token, docId);
    const cps = lines.filter((l): l is AuditCheckpointLine => l.type === "checkpoint");
    expect(cps.find((c) => c.seq === edits)?.kid).toBe(oldKid);
    expect(cps.at(-1)).toMatchObject({ seq: n, kid: newKid });

    const trail = writeLines(lines);
    const ok = await run("scripts/audit.ts", ["verify", trail, "--keys", write(JSON.stringify(after))]);
    expect(ok.stdout).toContain(`the last covers edit seq ${n}`);
    expect(ok.code).toBe(0);

    // Without the old key, its checkpoints cannot be vouched for.
    const newOnly = await run("scripts/audit.ts", ["verify", trail, "--keys", write(JSON.stringify({ keys: after.keys.filter((k) => k.kid !== oldKid) }))]);
    expect(newOnly.code).toBe(1);
    expect(newOnly.stdout).toContain(`which the key set does not hold`);
  });
});
