import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, inject } from "vitest";
import pg from "pg";
import * as Y from "yjs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { rpc, type AuditEditLine, type AuditEventLine, type AuditLine, type AuditPage, type EditView, type Page } from "@palimpsest/contracts";
import { TestApi, repoRoot, type RunningSystem, natsOptionsFromEnv } from "@palimpsest/devkit";
import { callRpcRaw } from "@palimpsest/platform";
import { startTestSystem } from "./system.ts";
import { storedEdits, storedUpdates } from "./stream-helpers.ts";
import { connectClient, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
let anon: TestApi;
let nc: NatsConnection;
let jsm: JetStreamManager;
let db: pg.Client;
let dir: string;
const clients: CollabClient[] = [];

beforeAll(async () => {
  system = await startTestSystem("audit");
  anon = new TestApi(system.gatewayUrl());
  nc = await connect(natsOptionsFromEnv(inject("storeEnv")));
  jsm = await jetstreamManager(nc);
  db = new pg.Client({ connectionString: inject("storeEnv")["DATABASE_URL"] });
  await db.connect();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-audit-test-"));
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await db?.end();
  await nc?.close();
  await system?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function client(docId: string, token: string): CollabClient {
  const c = connectClient(system.gatewayUrl(), docId, token);
  clients.push(c);
  return c;
}

const patience = { timeout: 15_000, interval: 100 };


/** Waits until the history service has projected every stored edit of the document. */
async function projected(api: TestApi, docId: string): Promise<number> {
  let n = 0;
  await vi.waitFor(async () => {
    n = await storedEdits(jsm, docId);
    const h = await api.get<Page<EditView>>(`/api/docs/${docId}/history?limit=1000`);
    expect(h.body.items.length).toBe(n);
  }, patience);
  return n;
}


async function exportTrail(token: string, docId: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${system.gatewayUrl()}/api/docs/${docId}/audit`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

const linesOf = (text: string): AuditLine[] =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AuditLine);

let fileNo = 0;
function writeTrail(lines: string[]): string {
  const file = path.join(dir, `trail-${++fileNo}.ndjson`);
  fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(""));
  return file;
}

/** The CLI as a user runs it, in its own process. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "scripts/audit.ts", ...args], { cwd: repoRoot }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function replay(updates: Uint8Array[], n: number): Y.Doc {
  const doc = new Y.Doc();
  for (const u of updates.slice(0, n)) Y.applyUpdate(doc, u);
  return doc;
}

describe("the audit trail", () => {
  let alice: { api: TestApi; token: string; id: string };
  let bob: { api: TestApi; token: string; id: string };
  let docId: string;
  let text: string;
  let edits: number;

  beforeAll(async () => {
    const a = await anon.newUser("Alice");
    const b = await anon.newUser("Bob");
    alice = { api: a.api, token: a.auth.accessToken, id: a.auth.user.id };
    bob = { api: b.api, token: b.auth.accessToken, id: b.auth.user.id };
    const doc = await alice.api.createDoc("Audit me");
    docId = doc.id;
    expect((await alice.api.post(`/api/docs/${docId}/members`, { email: b.auth.user.email, role: "editor" })).status).toBeLessThan(300);
    expect((await alice.api.call("PATCH", `/api/docs/${docId}`, { title: "Audited" })).status).toBe(200);

    // Two authors through unmodified y-websocket clients, taking turns.
    const ca = client(docId, alice.token);
    const cb = client(docId, bob.token);
    await vi.waitFor(() => expect(ca.provider.synced && cb.provider.synced).toBe(true), patience);
    const big = Array.from({ length: 12_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
    for (let round = 0; round < 4; round++) {
      ca.doc.getText("t").insert(ca.text().length, round === 1 ? `[${big}]` : `A${round} `);
      await vi.waitFor(() => expect(cb.text()).toBe(ca.text()), patience);
      cb.doc.getText("t").insert(0, `B${round} `);
      await vi.waitFor(() => expect(ca.text()).toBe(cb.text()), patience);
    }
    text = ca.text();
    edits = await projected(alice.api, docId);
    expect(edits).toBeGreaterThanOrEqual(8);
    // A metadata event after the edits, so the merge has something on both sides.
    expect((await bob.api.call("PATCH", `/api/docs/${docId}`, { title: "Audited twice" })).status).toBe(200);
  });

  it("exports every edit and metadata event as hash-chained NDJSON that the offline verifier accepts", async () => {
    const res = await exportTrail(alice.token, docId);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/x-ndjson/);
    const lines = linesOf(res.text);
    const [header, ...rest] = lines;
    expect(header).toMatchObject({ type: "header", format: "palimpsest-audit", version: 2, docId });
    expect(rest.at(-1)).toMatchObject({ type: "end", edits, events: 4 });

    const editLines = rest.filter((l): l is AuditEditLine => l.type === "edit");
    expect(editLines.map((e) => e.seq)).toEqual(Array.from({ length: edits }, (_, i) => i + 1));
    expect(new Set(editLines.map((e) => e.author))).toEqual(new Set([alice.id, bob.id]));
    // The bytes are the stream's, and their replay is the document.
    const stored = await storedUpdates(nc, jsm, docId);
    expect(editLines.map((e) => Buffer.from(e.update, "base64").toString("hex"))).toEqual(stored.map((u) => Buffer.from(u).toString("hex")));
    expect(replay(stored, stored.length).getText("t").toString()).toBe(text);
    // The chain is the one the history service stores.
    const log = await db.query<{ seq: number; hash: string }>("select seq::int as seq, hash from edit_log where doc_id = $1 order by seq", [docId]);
    expect(editLines.map((e) => e.hash)).toEqual(log.rows.map((r) => r.hash));

    const events = rest.filter((l): l is AuditEventLine => l.type === "event");
    expect(events.map((e) => e.event["type"])).toEqual(["doc.created.v1", "doc.shared.v1", "doc.renamed.v1", "doc.renamed.v1"]);
    // Merged by time: created, shared, renamed before the first edit; the last rename after the last edit.
    const kinds = rest.filter((l) => l.type !== "checkpoint").map((l) => l.type).join(",");
    expect(kinds).toBe(["event", "event", "event", ...editLines.map(() => "edit"), "event", "end"].join(","));
    // The export signs the head it ends at (test/audit-checkpoints.test.ts checks the signatures).
    expect(rest.filter((l) => l.type === "checkpoint").at(-1)).toMatchObject({ seq: edits, editHead: editLines.at(-1)?.hash });

    const file = writeTrail(res.text.split("\n").filter((l) => l !== ""));
    const ok = await cli("verify", file);
    expect(ok.stdout).toContain(`OK: document ${docId}: ${edits} edits`);
    expect(ok.stdout).toContain("4 metadata events");
    expect(ok.code).toBe(0);
  });

  it("fails, naming the sequence, when one event is altered, removed or reordered", async () => {
    // The chains alone: signed checkpoints have their own tests (audit-checkpoints.test.ts).
    const raw = (await exportTrail(alice.token, docId)).text.split("\n").filter((l) => l !== "" && !l.startsWith('{"type":"checkpoint"'));
    const at = (seq: number) => raw.findIndex((l) => (JSON.parse(l) as AuditLine).type === "edit" && (JSON.parse(l) as AuditEditLine).seq === seq);
    const k = 3;
    const edit = JSON.parse(raw[at(k)]!) as AuditEditLine;

    const oneByte = [...raw];
    const bytes = Buffer.from(edit.update, "base64");
    bytes[bytes.length >> 1]! ^= 0x01;
    oneByte[at(k)] = JSON.stringify({ ...edit, update: bytes.toString("base64") });

    const removed = raw.filter((_, i) => i !== at(k));

    const swapped = [...raw];
    [swapped[at(k)], swapped[at(k + 1)]] = [raw[at(k + 1)]!, raw[at(k)]!];

    const author = [...raw];
    author[at(k)] = JSON.stringify({ ...edit, author: edit.author === alice.id ? bob.id : alice.id });

    const lastEdit = [...raw];
    lastEdit.splice(at(edits), 1);

    const eventIdx = raw.findIndex((l) => l.includes('"doc.renamed.v1"'));
    const event = JSON.parse(raw[eventIdx]!) as AuditEventLine;
    const renamed = [...raw];
    renamed[eventIdx] = JSON.stringify({ ...event, event: { ...event.event, data: { ...(event.event["data"] as object), title: "Forged" } } });

    const truncated = raw.slice(0, -1);
    const badBase64 = [...raw];
    badBase64[at(k)] = JSON.stringify({ ...edit, update: `${edit.update.slice(0, -4)}*${edit.update.slice(-3)}` });

    // The rename after the last edit moved before it: each chain intact, the merge by time not.
    const moved = [...raw];
    const lastRename = raw.findLastIndex((l) => l.includes('"doc.renamed.v1"'));
    expect(lastRename).toBe(at(edits) + 1);
    [moved[at(edits)], moved[lastRename]] = [raw[lastRename]!, raw[at(edits)]!];

    const results = await Promise.all(
      [oneByte, removed, swapped, author, lastEdit, renamed, truncated, badBase64, ["not json", ...raw.slice(1)], moved].map((lines) => cli("verify", writeTrail(lines))),
    );
    const [r1, r2, r3, r4, r5, r6, r7, r8, r9, r10] = results;
    for (const r of results) expect(r.code).toBe(1);
    expect(r1!.stdout).toMatch(new RegExp(`FAILED at edit seq ${k} \\(line \\d+\\): hash-mismatch`));
    expect(r2!.stdout).toMatch(new RegExp(`FAILED at edit seq ${k} \\(line \\d+\\): missing`));
    expect(r3!.stdout).toMatch(new RegExp(`FAILED at edit seq ${k} \\(line \\d+\\): reordered`));
    expect(r4!.stdout).toMatch(new RegExp(`FAILED at edit seq ${k} \\(line \\d+\\): hash-mismatch`));
    expect(r5!.stdout).toMatch(new RegExp(`FAILED at edit seq ${edits} \\(line \\d+\\): missing`));
    expect(r6!.stdout).toMatch(new RegExp(`FAILED at event seq ${event.seq} \\(line \\d+\\): hash-mismatch`));
    expect(r7!.stdout).toMatch(/truncated/);
    expect(r8!.stdout).toMatch(new RegExp(`FAILED at edit seq ${k} \\(line \\d+\\): bad-base64`));
    expect(r9!.stdout).toMatch(/line 1\b.*(header|malformed)/);
    expect(r10!.stdout).toMatch(new RegExp(`FAILED at edit seq ${edits} \\(line \\d+\\): out-of-order`));
  });

  it("prints the document at any sequence from the file alone, equal to a local replay", async () => {
    const file = writeTrail((await exportTrail(bob.token, docId)).text.split("\n").filter((l) => l !== ""));
    const stored = await storedUpdates(nc, jsm, docId);
    const seqs = [0, 1, 2, 3, Math.ceil(edits / 2), edits - 1, edits];
    const printed = await Promise.all(seqs.map((n) => cli("print", file, "--at", String(n))));
    seqs.forEach((n, i) => {
      expect(printed[i]!.code, printed[i]!.stderr).toBe(0);
      expect(printed[i]!.stdout).toBe(`${replay(stored, n).getText("t").toString()}\n`);
    });
    const latest = await cli("print", file);
    expect(latest.stdout).toBe(`${text}\n`);
    const beyond = await cli("print", file, "--at", String(edits + 1));
    expect(beyond.code).toBe(1);
  });

  it("is for members only: a stranger gets 404, no token 401", async () => {
    const { api: stranger, auth } = await anon.newUser("Stranger");
    expect((await exportTrail(auth.accessToken, docId)).status).toBe(404);
    const body = await stranger.get<{ error: { code: string } }>(`/api/docs/${docId}/audit`);
    expect(body.body.error.code).toBe("NOT_FOUND");
    expect((await anon.get(`/api/docs/${docId}/audit`)).status).toBe(401);
    expect((await exportTrail(auth.accessToken, "no-such-doc")).status).toBe(404);
  });

  it("pages concatenate to the same trail, a long line spanning pages", async () => {
    const chunks: string[] = [];
    let cursor: string | undefined;
    do {
      const reply = await callRpcRaw(nc, rpc.history.audit, { requestId: "audit-pages", token: alice.token, input: { id: docId, pageBytes: 4096, ...(cursor ? { cursor } : {}) } }, 10_000);
      if (!reply.ok) throw new Error(JSON.stringify(reply.error));
      const page = JSON.parse(Buffer.from(reply.json).toString("utf8")) as AuditPage;
      expect(reply.json.byteLength).toBeLessThan(4096 + 1024);
      chunks.push(page.chunk);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.some((c) => c.length > 0 && !c.endsWith("\n"))).toBe(true);
    const paged = chunks.join("").split("\n").slice(1);
    const whole = (await exportTrail(alice.token, docId)).text.split("\n").slice(1);
    expect(paged).toEqual(whole);
  });

  it("says so when the stored log and the stream disagree, and the verifier refuses it", async () => {
    const { api, auth } = await anon.newUser("Tampered");
    const doc = await api.createDoc("Tamper");
    const c = client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true), patience);
    for (const ch of ["one ", "two ", "three "]) {
      c.doc.getText("t").insert(c.text().length, ch);
      await vi.waitFor(async () => expect(await storedEdits(jsm, doc.id)).toBeGreaterThanOrEqual(["one ", "two ", "three "].indexOf(ch) + 1), patience);
    }
    const n = await projected(api, doc.id);

    // An author rewritten in the database: the stream's bytes and headers no longer give the stored row.
    const original = await db.query<{ user_id: string }>("select user_id from edit_log where doc_id = $1 and seq = 2", [doc.id]);
    await db.query("update edit_log set user_id = 'someone-else' where doc_id = $1 and seq = 2", [doc.id]);
    try {
      const res = await exportTrail(auth.accessToken, doc.id);
      expect(res.status).toBe(200);
      const last = linesOf(res.text).at(-1);
      expect(last).toMatchObject({ type: "error", code: "CHAIN_MISMATCH", chain: "edit", seq: 2 });
      expect(linesOf(res.text).some((l) => l.type === "end")).toBe(false);
      const v = await cli("verify", writeTrail(res.text.split("\n").filter((l) => l !== "")));
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(/FAILED at edit seq 2 .*server-error.*CHAIN_MISMATCH/);
    } finally {
      await db.query("update edit_log set user_id = $2 where doc_id = $1 and seq = 2", [doc.id, original.rows[0]!.user_id]);
    }

    // A row the stream does not have (an edit removed from the stream looks the same).
    const head = await db.query("select * from edit_log where doc_id = $1 and seq = $2", [doc.id, n]);
    const row = head.rows[0] as Record<string, unknown>;
    await db.query(
      "insert into edit_log (doc_id, seq, stream_seq, at, at_text, user_id, client_id, size, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      [doc.id, n + 1, 2 ** 40, row["at"], row["at_text"], row["user_id"], row["client_id"], row["size"], row["hash"], "f".repeat(64)],
    );
    try {
      const lines = linesOf((await exportTrail(auth.accessToken, doc.id)).text);
      expect(lines.at(-1)).toMatchObject({ type: "error", code: "CHAIN_MISMATCH", seq: n + 1 });
      expect(lines.filter((l) => l.type === "edit")).toHaveLength(n);
    } finally {
      await db.query("delete from edit_log where doc_id = $1 and seq = $2", [doc.id, n + 1]);
    }
    expect(linesOf((await exportTrail(auth.accessToken, doc.id)).text).at(-1)).toMatchObject({ type: "end", edits: n });
  });

  it("prints rich text as paragraphs on lines and a board as JSON", async () => {
    const { api, auth } = await anon.newUser("Writer");
    const doc = await api.createDoc("Rich");
    const board = await api.createDoc("Board", "board");
    const c = client(doc.id, auth.accessToken);
    const cbd = client(board.id, auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced && cbd.provider.synced).toBe(true), patience);
    const paragraph = (text: string) => {
      const p = new Y.XmlElement("paragraph");
      p.insert(0, [new Y.XmlText(text)]);
      return p;
    };
    const fragment = c.doc.getXmlFragment("default");
    fragment.insert(0, [paragraph("First paragraph")]);
    await vi.waitFor(async () => expect(await storedEdits(jsm, doc.id)).toBe(1), patience);
    fragment.insert(1, [paragraph("Second one")]);
    await vi.waitFor(async () => expect(await storedEdits(jsm, doc.id)).toBe(2), patience);
    cbd.doc.getMap("board").set("card-1", { kind: "note", text: "hello" });
    await vi.waitFor(async () => expect(await storedEdits(jsm, board.id)).toBe(1), patience);
    await projected(api, doc.id);
    await projected(api, board.id);

    const file = writeTrail((await exportTrail(auth.accessToken, doc.id)).text.split("\n").filter((l) => l !== ""));
    const boardFile = writeTrail((await exportTrail(auth.accessToken, board.id)).text.split("\n").filter((l) => l !== ""));
    const [v, first, both, b] = await Promise.all([cli("verify", file), cli("print", file, "--at", "1"), cli("print", file, "--at", "2"), cli("print", boardFile)]);
    expect(v.code).toBe(0);
    expect(first.stdout).toBe("First paragraph\n");
    expect(both.stdout).toBe("First paragraph\nSecond one\n");
    expect(JSON.parse(b.stdout)).toEqual({ "card-1": { kind: "note", text: "hello" } });
  });
});
