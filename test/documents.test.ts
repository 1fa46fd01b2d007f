import { describe, expect, it, vi } from "vitest";
import { type ActivityItem, type DocView, type ErrorBody, type MembersView, type Page } from "@palimpsest/contracts";
import { useSystem } from "./system.ts";
import { storedDocEvents } from "./stream-helpers.ts";
import { tokenIn, waitForMail } from "./mail-helpers.ts";

const ctx = useSystem("documents");




describe("document commands", () => {
  it("rename, trash and restore, each an event; errors say why", async () => {
    const { api } = await ctx.anon.newUser();
    const doc = await api.createDoc("Draft");
    const renamed = await api.call<DocView>("PATCH", `/api/docs/${doc.id}`, { title: "Final" });
    expect(renamed.status).toBe(200);
    expect(renamed.body.title).toBe("Final");
    expect(renamed.body.version).toBeGreaterThan(doc.version);

    expect((await api.call("PATCH", `/api/docs/${doc.id}`, { title: "" })).status).toBe(400);
    expect((await api.call("PATCH", `/api/docs/${doc.id}`, { title: "x", extra: 1 })).status).toBe(400);

    expect((await api.call("DELETE", `/api/docs/${doc.id}`)).status).toBe(204);
    expect((await api.get(`/api/docs/${doc.id}`)).status).toBe(404);
    expect((await api.get<Page<DocView>>("/api/docs")).body.items.map((d) => d.id)).not.toContain(doc.id);
    const trash = await api.get<Page<DocView>>("/api/docs?trashed=true");
    expect(trash.body.items.map((d) => [d.id, d.trashed])).toEqual([[doc.id, true]]);

    const restored = await api.post<DocView>(`/api/docs/${doc.id}/untrash`);
    expect(restored.status).toBe(200);
    expect(restored.body.trashed).toBe(false);
    expect(await storedDocEvents(ctx.jsm, doc.id)).toBe(4);
  });

  it("shares by email, changes roles, removes, leaves and transfers ownership", async () => {
    const { api: owner, auth: ownerAuth } = await ctx.anon.newUser("Owner");
    const { api: bob, auth: bobAuth } = await ctx.anon.newUser("Bob");
    const { api: carol, auth: carolAuth } = await ctx.anon.newUser("Carol");
    const doc = await owner.createDoc("Team plan");

    const shared = await owner.post<MembersView>(`/api/docs/${doc.id}/members`, { email: bobAuth.user.email.toUpperCase(), role: "editor" });
    expect(shared.status).toBe(201);
    expect(shared.body.members.find((m) => m.userId === bobAuth.user.id)).toMatchObject({ role: "editor", name: "Bob", email: bobAuth.user.email });
    expect((await bob.get<DocView>(`/api/docs/${doc.id}`)).body.role).toBe("editor");

    // An editor may share below owner, but not change roles.
    expect((await bob.post(`/api/docs/${doc.id}/members`, { email: carolAuth.user.email, role: "viewer" })).status).toBe(201);
    const byEditor = await bob.call<ErrorBody>("PATCH", `/api/docs/${doc.id}/members/${carolAuth.user.id}`, { role: "editor" });
    expect(byEditor.status).toBe(403);
    expect(byEditor.body.error.code).toBe("FORBIDDEN");

    expect((await owner.call("PATCH", `/api/docs/${doc.id}/members/${carolAuth.user.id}`, { role: "commenter" })).status).toBe(200);
    expect((await carol.get<DocView>(`/api/docs/${doc.id}`)).body.role).toBe("commenter");
    expect((await owner.call<ErrorBody>("PATCH", `/api/docs/${doc.id}/members/${carolAuth.user.id}`, { role: "owner" })).status).toBe(400);

    expect((await carol.post(`/api/docs/${doc.id}/leave`)).status).toBe(204);
    expect((await carol.get(`/api/docs/${doc.id}`)).status).toBe(404);
    expect((await owner.post<ErrorBody>(`/api/docs/${doc.id}/leave`)).body.error.code).toBe("FORBIDDEN");

    const transfer = await owner.post<MembersView>(`/api/docs/${doc.id}/transfer`, { userId: bobAuth.user.id });
    expect(transfer.status).toBe(200);
    const roles = Object.fromEntries(transfer.body.members.map((m) => [m.userId, m.role]));
    expect(roles).toEqual({ [ownerAuth.user.id]: "editor", [bobAuth.user.id]: "owner" });
    expect((await bob.call("DELETE", `/api/docs/${doc.id}/members/${ownerAuth.user.id}`)).status).toBe(204);
    expect((await owner.get(`/api/docs/${doc.id}`)).status).toBe(404);
    expect((await owner.call<ErrorBody>("DELETE", `/api/docs/${doc.id}/members/${bobAuth.user.id}`)).status).toBe(404);
  });

  it("an email without an account gets a pending invitation, accepted with its emailed link", async () => {
    const { api: owner } = await ctx.anon.newUser();
    const doc = await owner.createDoc("Invite");
    const email = `later-${crypto.randomUUID()}@example.test`;
    const res = await owner.post<MembersView>(`/api/docs/${doc.id}/members`, { email, role: "commenter" });
    expect(res.body.invitations).toEqual([{ email, role: "commenter", expiresAt: expect.any(String) }]);
    const token = tokenIn((await waitForMail(email))[0]!, "/invite/");

    const reg = await ctx.anon.post<{ accessToken: string; user: { id: string } }>("/api/auth/register", { email, password: "correct horse battery staple", name: "Later" });
    const newcomer = ctx.anon.withToken(reg.body.accessToken);
    expect((await newcomer.post("/api/invitations/accept", { token })).status).toBe(200);
    expect((await newcomer.get<DocView>(`/api/docs/${doc.id}`)).body.role).toBe("commenter");
    const members = await owner.get<MembersView>(`/api/docs/${doc.id}/members`);
    expect(members.body.invitations).toEqual([]);
    expect(members.body.members.map((m) => m.userId)).toContain(reg.body.user.id);

    const cancel = `gone-${crypto.randomUUID()}@example.test`;
    await owner.post(`/api/docs/${doc.id}/members`, { email: cancel, role: "viewer" });
    expect((await owner.post(`/api/docs/${doc.id}/invitations/cancel`, { email: cancel })).status).toBe(204);
    expect((await owner.get<MembersView>(`/api/docs/${doc.id}/members`)).body.invitations).toEqual([]);
  });
});

describe("concurrency and retries", () => {
  it("of concurrent commands on the same version exactly one wins; the rest get 409", async () => {
    const { api } = await ctx.anon.newUser();
    const doc = await api.createDoc("Race");
    const results = await Promise.all(
      ["A", "B", "C", "D", "E"].map((t) => api.call<DocView | ErrorBody>("PATCH", `/api/docs/${doc.id}`, { title: t }, { "if-match": `"${doc.version}"` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const losers = results.filter((r) => r.status !== 200);
    expect(losers).toHaveLength(4);
    for (const l of losers) expect((l.body as ErrorBody).error.code).toBe("CONFLICT");
    expect(await storedDocEvents(ctx.jsm, doc.id)).toBe(2);
  });

  it("without If-Match, racing commands never overwrite each other silently", async () => {
    const { api } = await ctx.anon.newUser();
    const doc = await api.createDoc("Race 2");
    const results = await Promise.all(["A", "B", "C", "D"].map((t) => api.call("PATCH", `/api/docs/${doc.id}`, { title: t })));
    for (const r of results) expect([200, 409]).toContain(r.status);
    const wins = results.filter((r) => r.status === 200).length;
    expect(await storedDocEvents(ctx.jsm, doc.id)).toBe(1 + wins);
  });

  it("a command leaves no consumer behind on the stream it read the document from", async () => {
    const { api } = await ctx.anon.newUser();
    const doc = await api.createDoc("Counted");
    const consumers = async () => (await ctx.jsm.streams.info("DOCS")).state.consumer_count;
    const before = await consumers();
    for (let i = 0; i < 5; i++) expect((await api.call("PATCH", `/api/docs/${doc.id}`, { title: `Title ${i}` })).status).toBe(200);
    // Each command folds the document's events through a consumer of its own; none may linger.
    await vi.waitFor(async () => expect(await consumers()).toBeLessThanOrEqual(before), { timeout: 5_000 });
  });

  it("a retried command with the same Idempotency-Key is stored once", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const key = { "idempotency-key": crypto.randomUUID() };
    const first = await api.call<DocView>("POST", "/api/docs", { title: "Once" }, key);
    const again = await api.call<DocView>("POST", "/api/docs", { title: "Once" }, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect((await api.get<Page<DocView>>("/api/docs?q=Once")).body.items).toHaveLength(1);

    const { auth: bob } = await ctx.anon.newUser();
    const shareKey = { "idempotency-key": crypto.randomUUID() };
    for (let i = 0; i < 3; i++) {
      const r = await api.call("POST", `/api/docs/${first.body.id}/members`, { email: bob.user.email, role: "viewer" }, shareKey);
      expect(r.status).toBe(201);
    }
    const renameKey = { "idempotency-key": crypto.randomUUID() };
    await api.call("PATCH", `/api/docs/${first.body.id}`, { title: "Twice?" }, renameKey);
    await api.call("PATCH", `/api/docs/${first.body.id}`, { title: "Twice?" }, renameKey);
    expect(await storedDocEvents(ctx.jsm, first.body.id)).toBe(3);
    expect(auth.user.id).toBeDefined();
  });
});

describe("lists", () => {
  it("sorts by last change, including edits, and searches titles", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const older = await api.createDoc("Alpha notes");
    const newer = await api.createDoc("Beta notes");
    expect((await api.get<Page<DocView>>("/api/docs")).body.items.map((d) => d.id)).toEqual([newer.id, older.id]);
    const c = ctx.client(older.id, auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
    c.doc.getText("t").insert(0, "an edit moves it up");
    // The list follows edits within about a second: history's edit log takes the edit in (every 200 ms)
    // and writes the document's head, which docs projects once a second.
    await vi.waitFor(async () => expect((await api.get<Page<DocView>>("/api/docs")).body.items.map((d) => d.id)).toEqual([older.id, newer.id]), { timeout: 5_000 });
    expect((await api.get<Page<DocView>>("/api/docs?q=beta")).body.items.map((d) => d.id)).toEqual([newer.id]);
    expect((await api.get<Page<DocView>>("/api/docs?q=%25")).body.items).toEqual([]);
  });
});

describe("activity feed", () => {
  it("says who created, renamed, shared and changed roles, and summarises editing sessions", async () => {
    const { api, auth } = await ctx.anon.newUser("Owner");
    const { auth: bob } = await ctx.anon.newUser("Bob");
    const doc = await api.createDoc("Log");
    await api.call("PATCH", `/api/docs/${doc.id}`, { title: "Log 2" });
    await api.post(`/api/docs/${doc.id}/members`, { email: bob.user.email, role: "editor" });
    await api.call("PATCH", `/api/docs/${doc.id}/members/${bob.user.id}`, { role: "viewer" });
    const c = ctx.client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
    for (const ch of "hello") c.doc.getText("t").insert(c.text().length, ch);
    await vi.waitFor(async () => {
      const feed = await api.get<{ items: ActivityItem[] }>(`/api/docs/${doc.id}/activity`);
      expect(feed.status).toBe(200);
      const types = feed.body.items.map((i) => i.type);
      expect(types).toEqual(expect.arrayContaining(["created", "renamed", "shared", "role-changed", "edited"]));
      const session = feed.body.items.find((i) => i.type === "edited");
      expect(session?.userId).toBe(auth.user.id);
      // Keystrokes typed in a burst may be stored as fewer events; the session counts stored events.
      expect(session?.session?.edits).toBeGreaterThanOrEqual(1);
      expect(session?.session?.edits).toBeLessThanOrEqual(5);
      expect(feed.body.items.find((i) => i.type === "role-changed")).toMatchObject({ userId: auth.user.id, data: { userId: bob.user.id, role: "viewer", previousRole: "editor" } });
    });
    const { api: stranger } = await ctx.anon.newUser();
    expect((await stranger.get(`/api/docs/${doc.id}/activity`)).status).toBe(404);
  });
});
