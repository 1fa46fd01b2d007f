import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi, inject } from "vitest";
import pg from "pg";
import * as Y from "yjs";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { DocFields, Streams, editMessageId, subjects, writeEditHeaders, type AuditEndLine, type EditView, type Page } from "@palimpsest/contracts";
import { repoRoot } from "@palimpsest/devkit";
import { createS3, decodeEvent } from "@palimpsest/platform";
import { useSystem } from "./system.ts";
import { storedEdits } from "./stream-helpers.ts";

/**
 * Purging a document erases its content everywhere history kept it (the EDITS stream, the edit
 * log's copies, chunks, snapshots in Postgres and the object store) and leaves a tombstone whose
 * chain head is the one an audit export made before the purge ends on.
 */
// Snapshots go to S3 here (inline max 0), and on a loaded machine the services take long to start.
vi.setConfig({ hookTimeout: 420_000 });
const sys = useSystem("purge-erasure", { env: { SNAPSHOT_EVERY_EDITS: "200", SNAPSHOT_SWEEP_MS: "200", SNAPSHOT_INLINE_MAX_BYTES: "0" } });
const patience = { timeout: 60_000, interval: 250 };
let db: pg.Client;
let s3: S3Client;
let dir: string;
const bucket = () => inject("storeEnv")["S3_BUCKET"] ?? "palimpsest";

beforeAll(async () => {
  const env = inject("storeEnv");
  db = new pg.Client({ connectionString: env["DATABASE_URL"] });
  await db.connect();
  s3 = createS3({ s3Endpoint: env["S3_ENDPOINT"]!, s3Region: "us-east-1", s3AccessKeyId: env["S3_ACCESS_KEY_ID"]!, s3SecretAccessKey: env["S3_SECRET_ACCESS_KEY"]! });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-erasure-test-"));
});
afterAll(async () => {
  await db?.end();
  s3?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function auditCli(...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "scripts/audit.ts", ...args], { cwd: repoRoot }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout });
    });
  });
}

const count = async (sql: string, docId: string) => Number((await db.query<{ n: string }>(sql, [docId])).rows[0]?.n ?? 0);
const snapshotObjects = async (docId: string) => (await s3.send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: `snapshots/${docId}/` }))).KeyCount ?? 0;

describe("purging a document", () => {
  it("erases its content from the stream, the edit log, snapshots and the object store, and leaves a tombstone the old audit trail verifies up to", async () => {
    const { api, auth } = await sys.anon.newUser("Owner");
    const doc = await api.createDoc("Secret plans");
    const secret = `SECRET-${doc.id}`;
    const y = new Y.Doc();
    const text = y.getText(DocFields.plainText);
    const updates: Uint8Array[] = [];
    y.on("update", (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 500; i++) text.insert(text.length, `${secret} ${i}\n`);
    const js = jetstream(sys.nc);
    await Promise.all(
      updates.map((u) => {
        const h = natsHeaders();
        writeEditHeaders(h, { author: auth.user.id, client: "erasure-test", replica: "test" });
        return js.publish(subjects.edits(doc.id), u, { msgID: editMessageId(doc.id, u), headers: h, timeout: 30_000 });
      }),
    );
    await vi.waitFor(async () => {
      const h = await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?after=499&limit=1`);
      expect(h.body.items[0]?.seq).toBe(500);
    }, patience);
    await vi.waitFor(async () => {
      expect(await count("select count(*) as n from snapshots where doc_id = $1", doc.id)).toBeGreaterThan(0);
      expect(await snapshotObjects(doc.id)).toBeGreaterThan(0);
    }, patience);
    expect(await count("select count(*) as n from edit_log where doc_id = $1 and update is not null", doc.id)).toBe(500);

    // An auditor's export before the purge: it verifies, and ends on the chain head.
    const res = await fetch(`${sys.system.gatewayUrl()}/api/docs/${doc.id}/audit`, { headers: { authorization: `Bearer ${auth.accessToken}` } });
    expect(res.status).toBe(200);
    const trail = await res.text();
    const file = path.join(dir, "before-purge.ndjson");
    fs.writeFileSync(file, trail);
    const verified = await auditCli("verify", file);
    expect(verified.code, verified.stdout).toBe(0);
    const end = JSON.parse(trail.trim().split("\n").at(-1)!) as AuditEndLine;
    expect(end).toMatchObject({ type: "end", edits: 500 });

    expect((await api.call("DELETE", `/api/docs/${doc.id}?purge=true`)).status).toBeLessThan(300);

    // The tombstone: who purged, where the edit chain stood.
    let tombstone: ReturnType<typeof decodeEvent> | undefined;
    await vi.waitFor(async () => {
      const stored = await sys.jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.erasure(doc.id) });
      expect(stored).not.toBeNull();
      tombstone = decodeEvent(stored!);
    }, patience);
    expect(tombstone).toMatchObject({ type: "doc.erased.v1", actorId: auth.user.id, data: { docId: doc.id, purgedBy: auth.user.id, lastEditSeq: 500, editHead: end.editHead } });

    // The content, gone from every store.
    await vi.waitFor(async () => {
      expect(await storedEdits(sys.jsm, doc.id)).toBe(0);
      expect(await count("select count(*) as n from edit_log where doc_id = $1 and update is not null", doc.id)).toBe(0);
      expect(await count("select count(*) as n from edit_chunks where doc_id = $1", doc.id)).toBe(0);
      expect(await count("select count(*) as n from snapshots where doc_id = $1", doc.id)).toBe(0);
      expect(await snapshotObjects(doc.id)).toBe(0);
    }, patience);
    const leftovers = await db.query<{ n: string }>("select count(*) as n from edit_log where doc_id = $1 and position($2::bytea in coalesce(update, ''::bytea)) > 0", [doc.id, Buffer.from(secret)]);
    expect(Number(leftovers.rows[0]?.n)).toBe(0);

    // Nothing of the edits is left that a rebuild from the stream could not give back: the
    // tombstone's head is the record of where the chain stood.
    expect(await count("select count(*) as n from edit_log where doc_id = $1", doc.id)).toBe(0);
    // Its head is emptied too, so a rebuild of the document list's times has none for it, and the
    // list's read model drops its time once it reads that (a head it had not read yet when the
    // purge was applied may bring the row back for a moment).
    await vi.waitFor(async () => {
      const head = await sys.jsm.streams.getMessage(Streams.editHeads, { last_by_subj: subjects.editHead(doc.id) });
      expect(head?.data.byteLength).toBe(0);
      expect(await count("select count(*) as n from docs.document_last_edit where doc_id = $1", doc.id)).toBe(0);
    }, patience);
    // And the export made before the purge still verifies, offline, against the tombstone's head.
    expect((await auditCli("verify", file)).code).toBe(0);
  }, 180_000);
});
