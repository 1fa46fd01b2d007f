import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi, inject } from "vitest";
import * as Y from "yjs";
import pg from "pg";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { TestApi, type RunningSystem, natsOptionsFromEnv } from "@palimpsest/devkit";
import type { EditView, Page, VersionView } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { storedUpdates } from "./stream-helpers.ts";
import { connectClient, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
let anon: TestApi;
let nc: NatsConnection;
let jsm: JetStreamManager;
let db: pg.Client;
const clients: CollabClient[] = [];

beforeAll(async () => {
  system = await startTestSystem("versions", { env: { SNAPSHOT_EVERY_EDITS: "8", SNAPSHOT_CHUNK_EDITS: "3", SNAPSHOT_SWEEP_MS: "200", SNAPSHOT_INLINE_MAX_BYTES: "2000" } });
  anon = new TestApi(system.gatewayUrl());
  nc = await connect(natsOptionsFromEnv(inject("storeEnv")));
  jsm = await jetstreamManager(nc);
  db = new pg.Client({ connectionString: inject("storeEnv")["DATABASE_URL"] });
  await db.connect();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await db?.end();
  await nc?.close();
  await system?.stop();
});


function replay(updates: Uint8Array[], n: number): string {
  const doc = new Y.Doc();
  for (const u of updates.slice(0, n)) Y.applyUpdate(doc, u);
  return doc.getText("t").toString();
}

/** Random typing: inserts and deletes anywhere, each sent and stored on its own. */
async function typeRandomly(c: CollabClient, edits: number): Promise<void> {
  const t = c.doc.getText("t");
  for (let i = 0; i < edits; i++) {
    if (t.length > 5 && Math.random() < 0.3) t.delete(Math.floor(Math.random() * (t.length - 1)), 1 + Math.floor(Math.random() * 2));
    else t.insert(Math.floor(Math.random() * (t.length + 1)), String.fromCharCode(97 + Math.floor(Math.random() * 26)));
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
  }
}

describe("versions", () => {
  it("any version equals a local replay of the first N stored updates, with and without snapshots", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Versions");
    const c = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(c);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
    await typeRandomly(c, 300);
    const check = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(check);
    await vi.waitFor(() => expect(check.text()).toBe(c.text()));
    const updates = await storedUpdates(nc, jsm, doc.id);
    await vi.waitFor(async () => {
      const h = await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?limit=1000`);
      expect(h.body.items).toHaveLength(updates.length);
    });
    // Snapshots exist (some inline, the larger ones in the object store).
    // The chunks of a snapshotter pass commit together at its end, after the snapshots it stored on the way.
    await vi.waitFor(async () => {
      const snaps = await db.query("select seq, state is null as in_s3 from snapshots where doc_id = $1", [doc.id]);
      expect(snaps.rowCount).toBeGreaterThan(1);
      expect(snaps.rows.some((r: { in_s3: boolean }) => r.in_s3)).toBe(true);
      const stored = await db.query("select max(to_seq)::int as upto from edit_chunks where doc_id = $1", [doc.id]);
      expect(stored.rows[0]?.upto ?? 0).toBeGreaterThanOrEqual(Math.max(...snaps.rows.map((r: { seq: string }) => Number(r.seq))));
    }, { timeout: 15_000, interval: 200 });

    // Between snapshots, runs of updates are stored merged; a version uses the chain of them that
    // leads on from its snapshot, and where a link is missing it reads the rest from the stream.
    const chunks = await db.query<{ from_seq: string }>("select from_seq from edit_chunks where doc_id = $1 order by from_seq", [doc.id]);
    expect(chunks.rowCount).toBeGreaterThan(10);
    const dropped = chunks.rows.slice(4, 6).map((r) => Number(r.from_seq));
    await db.query("delete from edit_chunks where doc_id = $1 and from_seq = any($2::bigint[])", [doc.id, dropped]);
    // The edit log keeps a copy of each update's bytes for the short tail; where a copy is missing
    // (rows projected before it had one), the tail comes from the stream.
    const blanked = [dropped[0]! + 1, dropped[0]! + 4] as const;
    await db.query("update edit_log set update = null where doc_id = $1 and seq between $2 and $3", [doc.id, ...blanked]);
    // Other test files compare the edit log with a rebuild from the stream: put the bytes back afterwards.
    onTestFinished(async () => {
      for (let n = blanked[0]; n <= blanked[1]; n++) await db.query("update edit_log set update = $3 where doc_id = $1 and seq = $2", [doc.id, n, Buffer.from(updates[n - 1]!)]);
    });

    const picks = [1, updates.length, ...dropped.flatMap((s) => [s + 1, s + 3]), ...Array.from({ length: 12 }, () => 1 + Math.floor(Math.random() * updates.length))];
    for (const n of picks) {
      const v = await api.get<VersionView>(`/api/docs/${doc.id}/versions/${n}`);
      expect(v.status).toBe(200);
      expect(v.body.seq).toBe(n);
      expect(v.body.text, `version ${n}`).toBe(replay(updates, n));
      const state = new Y.Doc();
      Y.applyUpdate(state, Buffer.from(v.body.state, "base64"));
      expect(state.getText("t").toString()).toBe(v.body.text);
    }
    // Without snapshots, versions start from the empty document and the whole chain of chunks.
    await db.query("delete from snapshots where doc_id = $1", [doc.id]);
    for (const n of [2, 40, updates.length]) {
      const v = await api.get<VersionView>(`/api/docs/${doc.id}/versions/${n}`);
      expect(v.body.text, `version ${n} without snapshots`).toBe(replay(updates, n));
    }
    expect((await api.get<VersionView>(`/api/docs/${doc.id}/versions/0`)).body.text).toBe("");
    expect((await api.get(`/api/docs/${doc.id}/versions/${updates.length + 1}`)).status).toBe(404);
    const { api: stranger } = await anon.newUser();
    expect((await stranger.get(`/api/docs/${doc.id}/versions/1`)).status).toBe(404);
  });

  it("?at= picks the newest version at or before that time", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("At");
    const c = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(c);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
    for (const word of ["one ", "two ", "three "]) {
      c.doc.getText("t").insert(c.text().length, word);
      await vi.waitFor(async () => expect((await api.get<Page<EditView>>(`/api/docs/${doc.id}/history`)).body.items.at(-1)?.seq ?? 0).toBeGreaterThan(0));
      await new Promise((r) => setTimeout(r, 30));
    }
    const h = await vi.waitFor(async () => {
      const items = (await api.get<Page<EditView>>(`/api/docs/${doc.id}/history`)).body.items;
      expect(items.length).toBeGreaterThanOrEqual(2);
      return items;
    });
    const second = h[1]!;
    const justAfter = new Date(Date.parse(second.at) + 1).toISOString();
    const v = await api.get<VersionView>(`/api/docs/${doc.id}/versions/at?at=${encodeURIComponent(justAfter)}`);
    expect(v.body.seq).toBe(second.seq);
    const before = await api.get<VersionView>(`/api/docs/${doc.id}/versions/at?at=${encodeURIComponent(new Date(Date.parse(h[0]!.at) - 1000).toISOString())}`);
    expect(before.body).toMatchObject({ seq: 0, text: "" });
  });

  it("history filters by author and time range", async () => {
    const { api, auth } = await anon.newUser();
    const { auth: bob } = await anon.newUser();
    const doc = await api.createDoc("Filters");
    await api.post(`/api/docs/${doc.id}/members`, { email: bob.user.email, role: "editor" });
    const a = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    const b = connectClient(system.gatewayUrl(), doc.id, bob.accessToken);
    clients.push(a, b);
    await vi.waitFor(() => expect(a.provider.synced && b.provider.synced).toBe(true));
    a.doc.getText("t").insert(0, "a");
    await vi.waitFor(() => expect(b.text()).toBe("a"));
    b.doc.getText("t").insert(1, "b");
    await vi.waitFor(async () => expect((await api.get<Page<EditView>>(`/api/docs/${doc.id}/history`)).body.items).toHaveLength(2));
    const byBob = await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?author=${bob.user.id}`);
    expect(byBob.body.items.map((e) => e.userId)).toEqual([bob.user.id]);
    const all = (await api.get<Page<EditView>>(`/api/docs/${doc.id}/history`)).body.items;
    const fromSecond = await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?from=${encodeURIComponent(all[1]!.at)}`);
    expect(fromSecond.body.items.map((e) => e.seq)).toEqual([2]);
  });

  it("the sync service opens a document from its newest snapshot plus the tail", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Snapshot open");
    const c = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(c);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
    await typeRandomly(c, 120);
    await vi.waitFor(async () => expect((await db.query("select 1 from snapshots where doc_id = $1", [doc.id])).rowCount).toBeGreaterThan(0), { timeout: 15_000, interval: 200 });
    const text = c.text();
    for (const x of clients.splice(0)) x.destroy();
    // A fresh sync process has nothing in memory: it must load the document.
    const sync = system.byName("sync")[0]!;
    await sync.process.stop();
    await system.start();
    const reader = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(reader);
    await vi.waitFor(() => expect(reader.text()).toBe(text));
    const metrics = await (await fetch(`http://127.0.0.1:${sync.port}/metrics`)).text();
    expect(Number(metrics.split("\n").find((l) => l.startsWith("sync_snapshot_loads_total"))?.split(" ").pop())).toBeGreaterThan(0);
  });
});

describe("named versions", () => {
  it("names the current or a given version; owners, editors and auditors list and read them; viewers do neither", async () => {
    const { api, auth } = await anon.newUser();
    const viewer = await anon.newUser();
    const auditor = await anon.newUser();
    const doc = await api.createDoc("Named");
    await api.post(`/api/docs/${doc.id}/members`, { email: viewer.auth.user.email, role: "viewer" });
    await api.post(`/api/docs/${doc.id}/members`, { email: auditor.auth.user.email, role: "auditor" });
    const c = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(c);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
    c.doc.getText("t").insert(0, "draft one");
    await vi.waitFor(async () => expect((await api.get<Page<EditView>>(`/api/docs/${doc.id}/history`)).body.items.length).toBeGreaterThan(0));
    const first = (await api.get<Page<EditView>>(`/api/docs/${doc.id}/history`)).body.items.at(-1)!.seq;

    const named = await api.post<{ items: { name: string; seq: number; namedBy: string }[] }>(`/api/docs/${doc.id}/versions`, { name: "First draft" });
    expect(named.status).toBe(201);
    expect(named.body.items[0]).toMatchObject({ name: "First draft", seq: first, namedBy: auth.user.id });
    expect((await api.post(`/api/docs/${doc.id}/versions`, { name: "Empty", seq: 0 })).status).toBe(201);
    expect((await api.post(`/api/docs/${doc.id}/versions`, { name: "Future", seq: first + 100 })).status).toBe(400);
    expect((await viewer.api.post(`/api/docs/${doc.id}/versions`, { name: "Mine" })).status).toBe(403);
    expect((await auditor.api.post(`/api/docs/${doc.id}/versions`, { name: "Mine" })).status).toBe(403);
    const list = await auditor.api.get<{ items: { name: string; seq: number }[] }>(`/api/docs/${doc.id}/versions`);
    expect(list.body.items.map((v) => [v.name, v.seq])).toEqual([["Empty", 0], ["First draft", first]]);
    expect((await auditor.api.get<VersionView>(`/api/docs/${doc.id}/versions/${first}`)).body.text).toBe("draft one");
    // A viewer sees the document as it is now, not what it was.
    expect((await viewer.api.get(`/api/docs/${doc.id}/versions`)).status).toBe(403);
    expect((await viewer.api.get(`/api/docs/${doc.id}/versions/${first}`)).status).toBe(403);
    expect((await viewer.api.get(`/api/docs/${doc.id}`)).status).toBe(200);
    const { api: stranger } = await anon.newUser();
    expect((await stranger.get(`/api/docs/${doc.id}/versions`)).status).toBe(404);
  });
});
