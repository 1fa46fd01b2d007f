import { afterAll, beforeAll, describe, expect, it, vi, inject } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { createHash, randomBytes } from "node:crypto";
import sharp from "sharp";
import { Streams, subjects, type CreatedApiToken, type FileView } from "@palimpsest/contracts";
import { TestApi, repoRoot, type RunningSystem, natsOptionsFromEnv, natsUserEnv } from "@palimpsest/devkit";
import { appendEvent, newEvent } from "@palimpsest/platform";
import { startTestSystem } from "./system.ts";
import { connectClient } from "./collab-client.ts";

/** `schema` is the owning service's (each keeps its own checkpoints). */
const PROJECTIONS: Record<string, { schema: string; stream: string; filter: string; tables: string[] }> = {
  auth: { schema: "auth", stream: Streams.auth, filter: subjects.allAuthEvents(), tables: ["users", "sessions", "refresh_tokens", "pending_registrations", "registration_notices", "api_tokens"] },
  docs: { schema: "docs", stream: Streams.docs, filter: subjects.allDocEvents(), tables: ["documents", "comments", "document_members", "document_invitations", "named_versions", "webhooks"] },
  "docs-notifications": { schema: "docs", stream: Streams.docs, filter: subjects.allDocsStream(), tables: ["notifications", "thread_participants", "comment_threads"] },
  "docs-workspaces": { schema: "docs", stream: Streams.docs, filter: subjects.allWorkspaceEvents(), tables: ["workspaces", "workspace_members", "workspace_invitations"] },
  "docs-users": { schema: "docs", stream: Streams.auth, filter: subjects.allAuthEvents(), tables: ["doc_users"] },
  "docs-edit-heads": { schema: "docs", stream: Streams.editHeads, filter: subjects.allEditHeads(), tables: ["document_last_edit"] },
  // A cache of history's text, fetched again for every document's head.
  "docs-search": { schema: "docs", stream: Streams.editHeads, filter: subjects.allEditHeads(), tables: ["document_text"] },
  "edit-log": { schema: "history", stream: Streams.edits, filter: subjects.allEdits(), tables: ["edit_log", "doc_heads"] },
  "doc-activity": { schema: "history", stream: Streams.docs, filter: subjects.allDocsStream(), tables: ["doc_activity"] },
  files: { schema: "files", stream: Streams.docs, filter: subjects.allFileEvents(), tables: ["files"] },
};

let system: RunningSystem;
let db: pg.Client;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  // Notifications left unread by earlier files fall due for email while this file runs; mailing
  // them appends events between the two dumps, which would be a real change, not a rebuild's.
  system = await startTestSystem("rebuild", { env: { NOTIFICATION_MAIL_DELAY_SECONDS: "86400" } });
  db = new pg.Client({ connectionString: inject("storeEnv")["DATABASE_URL"] });
  await db.connect();
  nc = await connect(natsOptionsFromEnv(inject("storeEnv")));
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await db?.end();
  await nc?.close();
  await system?.stop();
});

async function caughtUp(): Promise<void> {
  await vi.waitFor(
    async () => {
      for (const [name, { schema, stream, filter }] of Object.entries(PROJECTIONS)) {
        const last = (await jsm.streams.getMessage(stream, { last_by_subj: filter }))?.seq ?? 0;
        const cp = await db.query<{ stream_seq: number }>(`select stream_seq::int as stream_seq from "${schema}".projection_checkpoints where name = $1`, [name]);
        expect(cp.rows[0]?.stream_seq ?? 0, name).toBe(last);
      }
    },
    { timeout: 60_000, interval: 200 },
  );
}

async function dump(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const { tables } of Object.values(PROJECTIONS)) {
    for (const t of tables) {
      const cols = await db.query<{ column_name: string }>("select column_name from information_schema.columns where table_name = $1 order by ordinal_position", [t]);
      const order = cols.rows.map((c) => `"${c.column_name}"`).join(", ");
      out[t] = (await db.query(`select * from "${t}" order by ${order}`)).rows;
    }
  }
  return out;
}

describe("projections are rebuilt from the streams", () => {
  it("dropping and rebuilding every read model gives exactly the same tables, while the services run", async () => {
    const anon = new TestApi(system.gatewayUrl());
    const { api, auth } = await anon.newUser("Owner");
    const { auth: bob } = await anon.newUser("Bob");
    const doc = await api.createDoc("Rebuild me");
    await api.call("PATCH", `/api/docs/${doc.id}`, { title: "Rebuilt" });
    await api.post(`/api/docs/${doc.id}/members`, { email: bob.user.email, role: "editor" });
    await api.post(`/api/docs/${doc.id}/members`, { email: `pending-${crypto.randomUUID()}@example.test`, role: "viewer" });
    await api.call("PATCH", `/api/docs/${doc.id}/members/${bob.user.id}`, { role: "commenter" });
    const thread = (await api.post<{ id: string }>(`/api/docs/${doc.id}/comments`, { body: "First", mentions: [bob.user.id] })).body;
    const bobApi = api.withToken(bob.accessToken);
    const reply = (await bobApi.post<{ id: string }>(`/api/comments/${thread.id}/replies`, { body: "Second" })).body;
    await bobApi.call("PATCH", `/api/comments/${reply.id}`, { body: "Second, edited" });
    await bobApi.call("PATCH", `/api/comments/${thread.id}`, { resolved: true });
    const gone = (await api.post<{ id: string }>(`/api/docs/${doc.id}/comments`, { body: "Deleted" })).body;
    await api.call("DELETE", `/api/comments/${gone.id}`);
    const keptHook = await api.post(`/api/docs/${doc.id}/webhooks`, { url: "http://127.0.0.1:9/kept", events: ["doc.renamed", "comment.created"] });
    expect(keptHook.status).toBe(201);
    const dropped = (await api.post<{ id: string }>(`/api/docs/${doc.id}/webhooks`, { url: "http://127.0.0.1:9/dropped", events: ["doc.edited"] })).body;
    expect((await api.call("DELETE", `/api/webhooks/${dropped.id}`)).status).toBe(204);
    // A workspace with a member, a document moved into it, and one made there.
    const ws = (await api.post<{ id: string }>("/api/workspaces", { name: "Rebuilt team" })).body;
    expect((await api.post(`/api/workspaces/${ws.id}/members`, { email: bob.user.email, role: "member" })).status).toBe(201);
    expect((await api.call("PATCH", `/api/workspaces/${ws.id}/members/${bob.user.id}`, { role: "auditor" })).status).toBe(200);
    expect((await api.post(`/api/docs/${doc.id}/move`, { workspaceId: ws.id })).status).toBe(200);
    expect((await api.post("/api/docs", { title: "Made in the workspace", workspaceId: ws.id })).status).toBe(201);
    const trashed = await api.createDoc("Trash me");
    await api.call("DELETE", `/api/docs/${trashed.id}`);
    await anon.post("/api/auth/refresh", { refreshToken: auth.refreshToken });
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#336699" } }).png().toBuffer();
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), "swatch.png");
    const upload = await fetch(`${api.baseUrl}/api/docs/${doc.id}/files`, { method: "POST", headers: { authorization: `Bearer ${api.token}` }, body: form });
    expect(upload.status).toBe(201);
    // The thumbnail is the last change to the file's row: the tables are compared once it is made.
    await vi.waitFor(async () => expect((await api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items[0]?.thumbnail).toBe("ready"), { timeout: 30_000 });
    const c = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true), { timeout: 15_000 });
    for (const ch of "content") c.doc.getText("t").insert(c.text().length, ch);
    // An API token that stays, one that is revoked, and an edit made through one (its name is in the edit log).
    const kept = (await api.post<CreatedApiToken>("/api/auth/tokens", { name: "Kept bot", scopes: ["write"], expiresAt: new Date(Date.now() + 86_400_000).toISOString() })).body;
    const revoked = (await api.post<CreatedApiToken>("/api/auth/tokens", { name: "Revoked bot", scopes: ["read"] })).body;
    expect((await api.call("DELETE", `/api/auth/tokens/${revoked.id}`)).status).toBe(204);
    const check = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    // Each keystroke is its own update, paced by sync: on a busy machine that takes longer than a second.
    await vi.waitFor(() => expect(check.text()).toBe("content"), { timeout: 15_000 });
    const bot = connectClient(system.gatewayUrl(), doc.id, kept.token);
    await vi.waitFor(() => expect(bot.text()).toBe("content"), { timeout: 15_000 });
    bot.doc.getText("t").insert(0, "!");
    await vi.waitFor(() => expect(check.text()).toBe("!content"), { timeout: 15_000 });
    check.destroy();
    bot.destroy();
    c.destroy();

    // This system registers without email confirmation: its events go to the stream as auth appends them.
    const sha256 = (v: string) => createHash("sha256").update(v).digest("hex");
    const pendingEmail = `pending-reg-${crypto.randomUUID()}@example.test`;
    const request = { userId: crypto.randomUUID(), email: pendingEmail, name: "Pending", passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$placeholder-hash" };
    const js = jetstream(nc);
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    await appendEvent(js, subjects.registration(sha256(pendingEmail)), newEvent("user.registration-requested.v1", { ...request, tokenHash: sha256(randomBytes(32).toString("hex")), expiresAt }));
    await appendEvent(js, subjects.registration(sha256(bob.user.email)), newEvent("user.registration-notice-sent.v1", { userId: bob.user.id }));

    await caughtUp();
    const before = await dump();
    expect(before["documents"]!.length).toBeGreaterThan(0);
    expect(before["workspace_members"]!.some((r) => (r as { user_id: string; role: string }).user_id === bob.user.id && (r as { role: string }).role === "auditor")).toBe(true);
    expect(before["documents"]!.filter((r) => (r as { workspace_id: string | null }).workspace_id !== null).length).toBeGreaterThanOrEqual(2);
    expect(before["edit_log"]!.length).toBeGreaterThan(0);
    expect(before["edit_log"]!.some((r) => (r as { via_name: string | null }).via_name === "Kept bot")).toBe(true);
    expect(before["api_tokens"]!.map((r) => [(r as { id: string }).id, (r as { revoked_at: unknown }).revoked_at !== null])).toEqual(
      expect.arrayContaining([[kept.id, false], [revoked.id, true]]),
    );
    expect(before["document_invitations"]!.length).toBeGreaterThan(0);
    expect(before["comments"]!.filter((r) => (r as { doc_id: string }).doc_id === doc.id)).toHaveLength(2);
    expect(before["pending_registrations"]!.some((r) => (r as { email: string }).email === pendingEmail)).toBe(true);
    expect(before["registration_notices"]!.some((r) => (r as { user_id: string }).user_id === bob.user.id)).toBe(true);
    expect(before["files"]!.some((f) => (f as { doc_id: string }).doc_id === doc.id)).toBe(true);
    expect(before["webhooks"]!.filter((r) => (r as { doc_id: string }).doc_id === doc.id)).toHaveLength(1);
    expect(before["document_last_edit"]!.some((r) => (r as { doc_id: string }).doc_id === doc.id)).toBe(true);
    expect(before["document_text"]!.find((r) => (r as { doc_id: string }).doc_id === doc.id)).toMatchObject({ body: "!content" });

    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/rebuild-projections.ts"], {
      cwd: repoRoot,
      env: { ...process.env, ...inject("storeEnv"), ...natsUserEnv(inject("storeEnv")) },
    });
    for (const name of Object.keys(PROJECTIONS)) expect(stdout).toContain(`${name}: `);
    process.stdout.write(`${stdout.trim()}\n`);

    await caughtUp();
    const after = await dump();
    // Table by table, so a difference names its table and shows only its rows.
    for (const t of Object.keys(before)) expect(after[t], t).toEqual(before[t]);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    // The services carry on from the rebuilt tables.
    expect((await api.get(`/api/docs/${doc.id}`)).status).toBe(200);
    // Replaying takes as long as the streams are big: late in a full test run they hold every other file's events.
  }, 300_000);
});
