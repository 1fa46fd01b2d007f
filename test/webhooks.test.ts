import http from "node:http";
import type { AddressInfo } from "node:net";
import * as Y from "yjs";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import type { NotificationList, RegisteredWebhook, WebhookDeliveryList, WebhookList } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";

// Short retries so a failing receiver is retried, given up on and disabled within a test; the last
// waits are long enough for the docs service to be restarted in between.
const ctx = useSystem("webhooks", {
  env: { WEBHOOK_RETRY_SCHEDULE_MS: "300,300,300,3000,3000", WEBHOOK_EDIT_INTERVAL_MS: "1500", WEBHOOK_DISABLE_AFTER: "2", WEBHOOK_POLL_MS: "100" },
});

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

/** A receiver on 127.0.0.1 that records what it gets and answers what `answer` says (200 by default). */
async function receiver(answer: (n: number) => number = () => 200) {
  const got: Received[] = [];
  let calls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      got.push({ headers: req.headers, body, json: JSON.parse(body) as Received["json"] });
      res.statusCode = answer(++calls);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}
const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, { "webhook-id": String(r.headers["webhook-id"]), "webhook-timestamp": String(r.headers["webhook-timestamp"]), "webhook-signature": String(r.headers["webhook-signature"]) });

async function register(api: TestApi, docId: string, url: string, events: string[]): Promise<RegisteredWebhook> {
  const res = await api.post<RegisteredWebhook>(`/api/docs/${docId}/webhooks`, { url, events });
  expect(res.status).toBe(201);
  return res.body;
}

const deliveries = async (api: TestApi, webhookId: string) => (await api.get<WebhookDeliveryList>(`/api/webhooks/${webhookId}/deliveries`)).body;

describe("webhooks", () => {
  it("a rename and a comment reach the endpoint signed with its secret (Standard Webhooks), and the secret is in no activity", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const doc = await ann.api.createDoc("Plan");
    const rx = await receiver();
    const hook = await register(ann.api, doc.id, rx.url, ["doc.renamed", "comment.created"]);
    expect(hook).toMatchObject({ docId: doc.id, url: rx.url, events: ["doc.renamed", "comment.created"], disabled: false });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    expect((await ann.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Plan B" })).status).toBe(200);
    await ann.api.post(`/api/docs/${doc.id}/comments`, { body: "Looks good" });
    await vi.waitFor(() => expect(rx.got.map((r) => r.json.type).sort()).toEqual(["comment.created", "doc.renamed"]), { timeout: 15_000 });

    const rename = rx.got.find((r) => r.json.type === "doc.renamed")!;
    expect(verify(hook.secret, rename)).toMatchObject({ type: "doc.renamed", data: { docId: doc.id, title: "Plan B", actorId: ann.auth.user.id } });
    expect(rename.headers["webhook-id"]).toMatch(/^msg_/);
    expect(Math.abs(Number(rename.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    const comment = rx.got.find((r) => r.json.type === "comment.created")!;
    expect(verify(hook.secret, comment)).toMatchObject({ data: { docId: doc.id, body: "Looks good", actorId: ann.auth.user.id } });
    // Signed with this endpoint's secret only.
    expect(() => verify(`whsec_${Buffer.alloc(32, 1).toString("base64")}`, comment)).toThrow();

    const listed = (await ann.api.get<WebhookList>(`/api/docs/${doc.id}/webhooks`)).body.items;
    expect(listed).toEqual([expect.objectContaining({ id: hook.id, url: rx.url })]);
    expect(JSON.stringify(listed)).not.toContain(hook.secret);
    await vi.waitFor(async () => {
      const activity = JSON.stringify((await ann.api.get(`/api/docs/${doc.id}/activity`)).body);
      expect(activity).toContain("webhook");
      expect(activity).not.toContain(hook.secret);
      expect(activity).not.toContain(hook.secret.slice("whsec_".length));
      // The activity names the receiver's host, not its URL.
      expect(activity).not.toContain("/hook");
    });
    // The audit trail, which editors and auditors export, keeps the events whole: the URL (whose
    // path can be its receiver's credential) is sealed there, and only its host is in clear.
    const audit = await ann.api.get(`/api/docs/${doc.id}/audit`);
    const trail = typeof audit.body === "string" ? audit.body : JSON.stringify(audit.body);
    expect(trail).not.toContain(hook.secret.slice("whsec_".length));
    expect(trail).toContain("webhook.registered");
    expect(trail).toContain(new URL(rx.url).host);
    expect(trail).not.toContain(new URL(rx.url).pathname);
    // An API token, even its owner's with every scope, cannot set one up, or see them.
    const bot = (await ann.api.post<{ token: string }>("/api/auth/tokens", { name: "hook bot", scopes: ["read", "comment", "write"] })).body.token;
    const botApi = ctx.anon.withToken(bot);
    for (const res of [await botApi.post(`/api/docs/${doc.id}/webhooks`, { url: rx.url, events: ["doc.renamed"] }), await botApi.get(`/api/docs/${doc.id}/webhooks`)]) {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: "API_TOKEN_NOT_ALLOWED" } });
    }

    expect((await ann.api.call("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204);
    expect((await ann.api.get<WebhookList>(`/api/docs/${doc.id}/webhooks`)).body.items).toEqual([]);
  });

  it("edits are coalesced: a run of edits makes one or a few doc.edited deliveries whose versions cover them all", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const doc = await ann.api.createDoc("Notes");
    const rx = await receiver();
    const hook = await register(ann.api, doc.id, rx.url, ["doc.edited"]);
    const c = ctx.client(doc.id, ann.auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
    const text = new Y.XmlText("");
    c.doc.getXmlFragment("default").insert(0, [text]);
    for (const word of ["one ", "two ", "three ", "four ", "five "]) text.insert(text.length, word);
    const history = async () => (await ann.api.get<{ items: { seq: number }[] }>(`/api/docs/${doc.id}/history`)).body.items;
    await vi.waitFor(async () => expect((await history()).length).toBeGreaterThan(0));
    await vi.waitFor(
      async () => {
        const last = Math.max(...(await history()).map((h) => h.seq));
        const covered = rx.got.map((r) => r.json.data);
        expect(covered.at(-1)?.["toVersion"]).toBe(last);
      },
      { timeout: 20_000 },
    );
    const ranges = rx.got.map((r) => [r.json.data["fromVersion"], r.json.data["toVersion"]] as [number, number]);
    expect(ranges[0]![0]).toBe(1);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1] + 1);
    expect(rx.got.length).toBeLessThanOrEqual(3);
    for (const r of rx.got) expect(verify(hook.secret, r)).toMatchObject({ type: "doc.edited", data: { docId: doc.id } });
  });

  it("a failing receiver is retried until it answers 2xx, the log shows every attempt, and a replay resends with the same webhook-id", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const doc = await ann.api.createDoc("Retry");
    const rx = await receiver((n) => (n <= 2 ? 500 : 200));
    const hook = await register(ann.api, doc.id, rx.url, ["doc.renamed"]);
    await ann.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Retry 2" });
    await vi.waitFor(async () => expect((await deliveries(ann.api, hook.id)).items[0]?.status).toBe("delivered"), { timeout: 15_000 });
    const [delivery] = (await deliveries(ann.api, hook.id)).items;
    expect(delivery!.attempts.map((a) => a.statusCode)).toEqual([200, 500, 500]);
    expect(delivery!.attempts[1]).toMatchObject({ error: "HTTP 500" });
    expect(new Set(rx.got.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivery!.id]));
    expect(new Set(rx.got.map((r) => r.body)).size).toBe(1);

    const replay = await ann.api.post<{ replayed: number }>(`/api/webhooks/${hook.id}/replay`, { from: delivery!.id });
    expect(replay).toMatchObject({ status: 202, body: { replayed: 1 } });
    await vi.waitFor(() => expect(rx.got).toHaveLength(4));
    expect(rx.got[3]!.headers["webhook-id"]).toBe(delivery!.id);
    expect(verify(hook.secret, rx.got[3]!)).toMatchObject({ type: "doc.renamed" });
    expect((await ann.api.post(`/api/webhooks/${hook.id}/replay`, { from: "not a time" })).status).toBe(400);
  });

  it("a delivery still failing when the docs service stops is retried by the service that starts again", { timeout: 120_000 }, async () => {
    const ann = await ctx.anon.newUser("Ann");
    const doc = await ann.api.createDoc("Restart");
    let up = false;
    const rx = await receiver(() => (up ? 200 : 503));
    const hook = await register(ann.api, doc.id, rx.url, ["doc.renamed"]);
    await ann.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Restart 2" });
    await vi.waitFor(() => expect(rx.got.length).toBeGreaterThan(0), { timeout: 15_000 });
    const [docs] = ctx.system.byName("docs");
    await docs!.process.stop();
    const failedBefore = rx.got.length;
    up = true;
    await ctx.system.start();
    await vi.waitFor(async () => expect((await deliveries(ann.api, hook.id)).items[0]?.status).toBe("delivered"), { timeout: 30_000 });
    const [delivery] = (await deliveries(ann.api, hook.id)).items;
    expect(delivery!.attempts.map((a) => a.statusCode)).toEqual([200, ...Array<number>(failedBefore).fill(503)]);
    expect(new Set(rx.got.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivery!.id]));
  });

  it("an endpoint that keeps failing is disabled and its owner notified; a replay turns it on again", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const doc = await ann.api.createDoc("Broken");
    let failing = true;
    const rx = await receiver(() => (failing ? 503 : 200));
    const hook = await register(ann.api, doc.id, rx.url, ["doc.renamed"]);
    await ann.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Broken 1" });
    await ann.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Broken 2" });
    await vi.waitFor(async () => expect((await ann.api.get<WebhookList>(`/api/docs/${doc.id}/webhooks`)).body.items[0]).toMatchObject({ disabled: true }), { timeout: 20_000 });
    const log = await deliveries(ann.api, hook.id);
    expect(log.items.map((d) => [d.status, d.attempts.length])).toEqual([["failed", 6], ["failed", 6]]);
    await vi.waitFor(async () => {
      const inbox = (await ann.api.get<NotificationList>("/api/notifications")).body;
      expect(inbox.items[0]).toMatchObject({ type: "webhook_disabled", docId: doc.id, read: false });
      expect(inbox.items[0]!.excerpt).toContain("503");
    });
    // Nothing more is sent to a disabled endpoint.
    const before = rx.got.length;
    await ann.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Broken 3" });

    failing = false;
    expect((await ann.api.post<{ replayed: number }>(`/api/webhooks/${hook.id}/replay`, {})).body).toEqual({ replayed: 2 });
    await vi.waitFor(async () => expect((await deliveries(ann.api, hook.id)).items.map((d) => d.status)).toEqual(["delivered", "delivered"]));
    expect(rx.got.length).toBe(before + 2);
    expect((await ann.api.get<WebhookList>(`/api/docs/${doc.id}/webhooks`)).body.items[0]).toMatchObject({ disabled: false });
  });

  it("refuses private targets and malformed bodies, storing nothing", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const doc = await ann.api.createDoc("Guarded");
    for (const url of ["http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data", "http://[::ffff:10.0.0.1]/", "http://[fd00::1]/", "http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/"]) {
      const res = await ann.api.post(`/api/docs/${doc.id}/webhooks`, { url, events: ["doc.renamed"] });
      expect({ url, status: res.status, code: (res.body as { error?: { code: string } }).error?.code }).toEqual({ url, status: 422, code: "WEBHOOK_TARGET_REFUSED" });
    }
    const bad: unknown[] = [
      { url: "ftp://example.com/", events: ["doc.renamed"] },
      { url: "https://user:pass@example.com/", events: ["doc.renamed"] },
      { url: "https://example.com/", events: [] },
      { url: "https://example.com/", events: ["doc.deleted"] },
      { url: "https://example.com/", events: ["doc.renamed", "doc.renamed"] },
      { url: "https://example.com/", events: ["doc.renamed"], secret: "mine" },
      { url: `https://example.com/${"a".repeat(2_100)}`, events: ["doc.renamed"] },
      { events: ["doc.renamed"] },
      "https://example.com/",
    ];
    for (const body of bad) expect({ body, status: (await ann.api.post(`/api/docs/${doc.id}/webhooks`, body)).status }).toEqual({ body, status: 400 });
    expect((await ann.api.get<WebhookList>(`/api/docs/${doc.id}/webhooks`)).body.items).toEqual([]);
  });

  it("only the owner manages a document's webhooks: a member gets 403, anyone else 404, and nothing changes", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const ben = await ctx.anon.newUser("Ben");
    const eve = await ctx.anon.newUser("Eve");
    const doc = await ann.api.createDoc("Owned");
    await ann.api.post(`/api/docs/${doc.id}/members`, { email: ben.auth.user.email, role: "editor" });
    const rx = await receiver();
    const hook = await register(ann.api, doc.id, rx.url, ["doc.renamed"]);
    for (const [who, status] of [[ben, 403], [eve, 404]] as const) {
      expect((await who.api.get(`/api/docs/${doc.id}/webhooks`)).status).toBe(status);
      expect((await who.api.post(`/api/docs/${doc.id}/webhooks`, { url: rx.url, events: ["doc.renamed"] })).status).toBe(status);
      expect((await who.api.get(`/api/webhooks/${hook.id}/deliveries`)).status).toBe(status);
      expect((await who.api.post(`/api/webhooks/${hook.id}/replay`, {})).status).toBe(status);
      expect((await who.api.call("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(status);
    }
    expect((await ann.api.get<WebhookList>(`/api/docs/${doc.id}/webhooks`)).body.items.map((h) => h.id)).toEqual([hook.id]);
    for (let i = 0; i < 9; i++) await register(ann.api, doc.id, rx.url, ["doc.renamed"]);
    const over = await ann.api.post(`/api/docs/${doc.id}/webhooks`, { url: rx.url, events: ["doc.renamed"] });
    expect(over).toMatchObject({ status: 422, body: { error: { code: "WEBHOOK_LIMIT_REACHED" } } });
  });

  it("an endpoint registered through a workspace role hears nothing more once that role is gone", async () => {
    const owner = await ctx.anon.newUser("Workspace owner");
    const admin = await ctx.anon.newUser("Workspace admin");
    const ws = (await owner.api.post<{ id: string }>("/api/workspaces", { name: "Hooked" })).body;
    expect((await owner.api.post(`/api/workspaces/${ws.id}/members`, { email: admin.auth.user.email, role: "admin" })).status).toBe(201);
    const doc = (await owner.api.post<{ id: string }>("/api/docs", { title: "Watched", workspaceId: ws.id })).body;
    const rx = await receiver();
    // The admin manages the document's webhooks as its owner does.
    await register(admin.api, doc.id, rx.url, ["doc.renamed"]);
    expect((await owner.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Watched, renamed" })).status).toBe(200);
    await vi.waitFor(() => expect(rx.got.map((r) => r.json.data["title"])).toEqual(["Watched, renamed"]), { timeout: 15_000 });
    // Removed from the workspace: the next rename goes nowhere.
    expect((await owner.api.call("DELETE", `/api/workspaces/${ws.id}/members/${admin.auth.user.id}`)).status).toBe(204);
    expect((await owner.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Watched, renamed again" })).status).toBe(200);
    // An endpoint of the owner's own, registered after, hears that rename: deliveries went on meanwhile.
    const own = await receiver();
    await register(owner.api, doc.id, own.url, ["doc.renamed"]);
    expect((await owner.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Watched, third" })).status).toBe(200);
    await vi.waitFor(() => expect(own.got.map((r) => r.json.data["title"])).toEqual(["Watched, third"]), { timeout: 15_000 });
    expect(rx.got).toHaveLength(1);
  });
});
