// Workspaces against the real system: the role matrix (each workspace role, a guest with a share
// of their own, and a stranger) over the document routes and /collab, the workspace's own routes,
// access ending at once for a removed member (REST, lists, search and an open socket), moving
// documents in and out, and deleting a workspace.

import { beforeAll, describe, expect, it, vi } from "vitest";
import type { AcceptedInvitation, AuthResult, DocView, MembersView, ErrorBody, Page, SearchResults, WorkspaceMembersView, WorkspaceMemberView, WorkspaceRole, WorkspaceView } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import { rawConnect } from "./collab-client.ts";
import { storedEdits } from "./stream-helpers.ts";
import { tokenIn, waitForMail } from "./mail-helpers.ts";

const ctx = useSystem("workspaces");
const WAIT = { timeout: 20_000, interval: 100 };

type Who = WorkspaceRole | "guest-with-share" | "stranger";
const WHO: Who[] = ["owner", "admin", "member", "guest", "auditor", "guest-with-share", "stranger"];
const users = {} as Record<Who, { api: TestApi; auth: AuthResult }>;
let workspace: WorkspaceView;
let doc: DocView;

beforeAll(async () => {
  for (const who of WHO) users[who] = await ctx.anon.newUser(`ws-${who}`);
  const made = await users.owner.api.post<WorkspaceView>("/api/workspaces", { name: "Design" });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  workspace = made.body;
  expect(workspace.role).toBe("owner");
  const roles: [Who, WorkspaceRole][] = [["admin", "admin"], ["member", "member"], ["guest", "guest"], ["auditor", "auditor"], ["guest-with-share", "guest"]];
  for (const [who, role] of roles) {
    const r = await users.owner.api.post<Page<WorkspaceMemberView>>(`/api/workspaces/${workspace.id}/members`, { email: users[who].auth.user.email, role });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  // Made in the workspace by a member, who owns it; a guest gets a share of their own.
  const created = await users.member.api.post<DocView>("/api/docs", { title: "Roadmap", workspaceId: workspace.id });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  doc = created.body;
  expect(doc.workspaceId).toBe(workspace.id);
  expect((await users.member.api.post(`/api/docs/${doc.id}/members`, { email: users["guest-with-share"].auth.user.email, role: "commenter" })).status).toBe(201);
});

/** Expected document role through the workspace (guest: nothing; a guest's own share: commenter). */
const docRole: Record<Who, string | null> = { owner: "owner", admin: "owner", member: "owner", guest: null, auditor: "auditor", "guest-with-share": "commenter", stranger: null };

describe("workspaces", () => {
  it("each workspace role gets its role on the workspace's documents, on every kind of route; guests and strangers learn nothing", async () => {
    const wrong: string[] = [];
    const check = (what: string, who: Who, got: number, want: number) => {
      if (got !== want) wrong.push(`${what} as ${who}: want ${want}, got ${got}`);
    };
    // The maker owns it; another member of the workspace edits it.
    const other = await ctx.anon.newUser("ws-other-member");
    expect((await users.owner.api.post(`/api/workspaces/${workspace.id}/members`, { email: other.auth.user.email, role: "member" })).status).toBe(201);
    expect((await other.api.get<DocView>(`/api/docs/${doc.id}`)).body.role).toBe("editor");
    for (const who of WHO) {
      const api = users[who].api;
      const role = docRole[who];
      const read = await api.get<DocView>(`/api/docs/${doc.id}`);
      check("GET doc", who, read.status, role ? 200 : 404);
      if (role && read.body.role !== role) wrong.push(`role as ${who}: want ${role}, got ${read.body.role}`);
      const listed = (await api.get<Page<DocView>>(`/api/docs?workspaceId=${workspace.id}`)).body.items.find((d) => d.id === doc.id);
      if ((listed?.role ?? null) !== role) wrong.push(`list as ${who}: ${JSON.stringify(listed)}`);
      check("history", who, (await api.get(`/api/docs/${doc.id}/history`)).status, !role ? 404 : ["owner", "auditor"].includes(role) ? 200 : 403);
      check("comment", who, (await api.post(`/api/docs/${doc.id}/comments`, { body: `from ${who}` })).status, !role ? 404 : ["owner", "commenter"].includes(role) ? 201 : 403);
      check("rename", who, (await api.call("PATCH", `/api/docs/${doc.id}`, { title: "Roadmap" })).status, !role ? 404 : role === "owner" ? 200 : 403);
      check("members", who, (await api.get(`/api/docs/${doc.id}/members`)).status, role ? 200 : 404);
      // The workspace itself: its members see it, admins and owners manage it.
      const isMember = who !== "stranger";
      check("GET workspace", who, (await api.get(`/api/workspaces/${workspace.id}`)).status, isMember ? 200 : 404);
      check("workspace members", who, (await api.get(`/api/workspaces/${workspace.id}/members`)).status, isMember ? 200 : 404);
      check("rename workspace", who, (await api.call("PATCH", `/api/workspaces/${workspace.id}`, { name: "Design" })).status, !isMember ? 404 : ["owner", "admin"].includes(who) ? 200 : 403);
      check("make a document there", who, (await api.post("/api/docs", { title: `By ${who}`, workspaceId: workspace.id })).status, !isMember ? 404 : ["owner", "admin", "member"].includes(who) ? 201 : 403);
    }
    expect(wrong).toEqual([]);
  });

  it("/collab follows the same roles: owners, admins and members write, auditors and commenting guests read, guests and strangers are refused", { timeout: 120_000 }, async () => {
    const wsUrl = ctx.system.gatewayUrl().replace(/^http/, "ws");
    const watcher = ctx.client(doc.id, users.member.auth.accessToken);
    await vi.waitFor(() => expect(watcher.provider.synced).toBe(true), WAIT);
    for (const who of WHO) {
      const role = docRole[who];
      if (!role) {
        const s = rawConnect(`${wsUrl}/collab/${doc.id}?token=${users[who].auth.accessToken}`);
        expect((await s.closed).code, who).toBe(4403);
        expect(s.messages.every((m) => m[0] === 2), `${who} got document data`).toBe(true);
        continue;
      }
      const before = await storedEdits(ctx.jsm, doc.id);
      const c = ctx.client(doc.id, users[who].auth.accessToken);
      await vi.waitFor(() => expect(c.provider.synced, who).toBe(true), WAIT);
      c.doc.getText("t").insert(0, `[${who}]`);
      if (role === "owner") {
        await vi.waitFor(() => expect(watcher.text()).toContain(`[${who}]`), WAIT);
      } else {
        // A marker after the refused edit: once this client has it, the refused one would have been stored before.
        watcher.doc.getText("t").insert(0, `(after ${who})`);
        await vi.waitFor(() => expect(c.text()).toContain(`(after ${who})`), WAIT);
        expect(await storedEdits(ctx.jsm, doc.id), who).toBe(before + 1);
        expect(watcher.text()).not.toContain(`[${who}]`);
      }
    }
  });

  it("a member removed from the workspace loses it at once: the document, the list, search and an open socket", { timeout: 120_000 }, async () => {
    const leaving = await ctx.anon.newUser("ws-leaving");
    expect((await users.owner.api.post(`/api/workspaces/${workspace.id}/members`, { email: leaving.auth.user.email, role: "member" })).status).toBe(201);
    const made = await leaving.api.post<DocView>("/api/docs", { title: "Made by the one leaving", workspaceId: workspace.id });
    expect(made.status).toBe(201);
    // Its maker cannot take it out of the workspace: only the workspace's owners and admins can.
    expect((await leaving.api.post(`/api/docs/${made.body.id}/move`, { workspaceId: null })).status).toBe(403);
    const findable = await users.member.api.post<DocView>("/api/docs", { title: "Quarterly zeppelin forecast", workspaceId: workspace.id });
    expect(findable.status).toBe(201);
    const search = async () => (await leaving.api.get<SearchResults>("/api/search?q=zeppelin")).body.items.map((h) => h.docId);
    expect(await search()).toEqual([findable.body.id]);
    expect((await leaving.api.get<SearchResults>(`/api/search?q=zeppelin&workspaceId=${workspace.id}`)).body.items).toHaveLength(1);
    expect((await leaving.api.get<SearchResults>("/api/search?q=zeppelin&workspaceId=personal")).body.items).toHaveLength(0);
    const socket = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${findable.body.id}?token=${leaving.auth.accessToken}`);
    await vi.waitFor(() => expect(socket.messages.some((m) => m[0] === 0)).toBe(true), WAIT);
    let closedAt = 0;
    void socket.closed.then(() => (closedAt = Date.now()));

    const removedAt = Date.now();
    expect((await users.admin.api.call("DELETE", `/api/workspaces/${workspace.id}/members/${leaving.auth.user.id}`)).status).toBe(204);
    expect((await leaving.api.get(`/api/docs/${findable.body.id}`)).status).toBe(404);
    expect(await search()).toEqual([]);
    expect((await leaving.api.get<Page<DocView>>("/api/docs")).body.items.map((d) => d.id)).not.toContain(findable.body.id);
    expect((await leaving.api.get(`/api/workspaces/${workspace.id}`)).status).toBe(404);
    expect((await socket.closed).code).toBe(4403);
    process.stdout.write(`removed member's socket closed ${closedAt - removedAt} ms after the removal was answered\n`);
    // What they made there stays with the workspace: their own owner's share no longer counts.
    expect((await leaving.api.get(`/api/docs/${made.body.id}`)).status).toBe(404);
    expect((await users.owner.api.get<DocView>(`/api/docs/${made.body.id}`)).body.role).toBe("owner");
    // A guest cannot come back in by adding themselves.
    const err = await users.guest.api.post<ErrorBody>(`/api/workspaces/${workspace.id}/members`, { email: leaving.auth.user.email, role: "member" });
    expect(err.status).toBe(403);
  });

  it("a workspace role changed to auditor stops an open socket from writing", { timeout: 60_000 }, async () => {
    const demoted = await ctx.anon.newUser("ws-demoted");
    expect((await users.owner.api.post(`/api/workspaces/${workspace.id}/members`, { email: demoted.auth.user.email, role: "member" })).status).toBe(201);
    const c = ctx.client(doc.id, demoted.auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true), WAIT);
    const before = await storedEdits(ctx.jsm, doc.id);
    c.doc.getText("t").insert(0, "<member>");
    await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, doc.id)).toBe(before + 1), WAIT);
    expect((await users.owner.api.call("PATCH", `/api/workspaces/${workspace.id}/members/${demoted.auth.user.id}`, { role: "auditor" })).status).toBe(200);
    await vi.waitFor(async () => expect((await demoted.api.get<DocView>(`/api/docs/${doc.id}`)).body.role).toBe("auditor"), WAIT);
    const watcher = ctx.client(doc.id, users.member.auth.accessToken);
    await vi.waitFor(() => expect(watcher.provider.synced).toBe(true), WAIT);
    // Refused once the change reached sync: keep trying until an edit is not stored.
    let round = 0;
    await vi.waitFor(async () => {
      const n = await storedEdits(ctx.jsm, doc.id);
      const marker = `+${++round}+`;
      c.doc.getText("t").insert(0, "<auditor>");
      watcher.doc.getText("t").insert(0, marker);
      await vi.waitFor(() => expect(c.text()).toContain(marker), WAIT);
      expect(await storedEdits(ctx.jsm, doc.id)).toBe(n + 1);
    }, WAIT);
    expect(watcher.text()).not.toContain("<auditor>");
  });

  it("moving a document out takes it from the workspace's members; moving it in gives it to them; only who may add documents there can move in", async () => {
    const own = await users.guest.api.createDoc("Guest's own");
    // A guest may not put documents in the workspace.
    expect((await users.guest.api.post(`/api/docs/${own.id}/move`, { workspaceId: workspace.id })).status).toBe(403);
    const mine = await users.member.api.createDoc("Member's own");
    expect((await users.auditor.api.get(`/api/docs/${mine.id}`)).status).toBe(404);
    const moved = await users.member.api.post<DocView>(`/api/docs/${mine.id}/move`, { workspaceId: workspace.id });
    expect(moved.status).toBe(200);
    expect(moved.body.workspaceId).toBe(workspace.id);
    expect((await users.auditor.api.get<DocView>(`/api/docs/${mine.id}`)).body.role).toBe("auditor");
    expect((await users.admin.api.get<Page<DocView>>(`/api/docs?workspaceId=${workspace.id}`)).body.items.map((d) => d.id)).toContain(mine.id);
    // An admin (owner of it through the workspace) moves it back out to its owner's own documents, and then cannot see it.
    expect((await users.admin.api.post(`/api/docs/${mine.id}/move`, { workspaceId: null })).status).toBe(204);
    expect((await users.admin.api.get(`/api/docs/${mine.id}`)).status).toBe(404);
    expect((await users.member.api.get<Page<DocView>>("/api/docs?workspaceId=personal")).body.items.map((d) => d.id)).toContain(mine.id);
    // A stranger's workspace id is no workspace.
    expect((await users.member.api.post(`/api/docs/${mine.id}/move`, { workspaceId: crypto.randomUUID() })).status).toBe(404);
  });

  it("only an owner deletes a workspace, once its documents are out or in the trash; the trashed ones go back to their owners", async () => {
    const made = (await users.owner.api.post<WorkspaceView>("/api/workspaces", { name: "Short-lived" })).body;
    expect((await users.owner.api.post(`/api/workspaces/${made.id}/members`, { email: users.admin.auth.user.email, role: "admin" })).status).toBe(201);
    const d = (await users.admin.api.post<DocView>("/api/docs", { title: "Leftover", workspaceId: made.id })).body;
    expect((await users.admin.api.call("DELETE", `/api/workspaces/${made.id}`)).status).toBe(403);
    const busy = await users.owner.api.call<ErrorBody>("DELETE", `/api/workspaces/${made.id}`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toContain("1 document");
    expect((await users.admin.api.call("DELETE", `/api/docs/${d.id}`)).status).toBe(204);
    expect((await users.owner.api.call("DELETE", `/api/workspaces/${made.id}`)).status).toBe(204);
    expect((await users.owner.api.get<Page<WorkspaceView>>("/api/workspaces")).body.items.map((w) => w.id)).not.toContain(made.id);
    // The workspace owner reached it only through the workspace; its maker still has it in the trash.
    expect((await users.owner.api.get(`/api/docs/${d.id}`)).status).toBe(404);
    expect((await users.admin.api.get<Page<DocView>>("/api/docs?trashed=true")).body.items.map((x) => [x.id, x.workspaceId])).toContainEqual([d.id, null]);
  });

  it("an API token works on a workspace's documents by its owner's workspace role, and cannot manage workspaces", async () => {
    const token = (await users.auditor.api.post<{ token: string }>("/api/auth/tokens", { name: "audit bot", scopes: ["read"] })).body.token;
    const bot = ctx.anon.withToken(token);
    expect((await bot.get<DocView>(`/api/docs/${doc.id}`)).body.role).toBe("auditor");
    const refused = await bot.get<ErrorBody>(`/api/workspaces/${workspace.id}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("API_TOKEN_NOT_ALLOWED");
  });

  it("an email without an account is invited with a single-use link, through the same path as documents; the link's holder joins with its role", { timeout: 60_000 }, async () => {
    const email = `ws-invitee-${crypto.randomUUID()}@example.test`;
    // A guest may not invite; an admin may not invite an owner.
    expect((await users.guest.api.post(`/api/workspaces/${workspace.id}/members`, { email, role: "member" })).status).toBe(403);
    expect((await users.admin.api.post(`/api/workspaces/${workspace.id}/members`, { email, role: "owner" })).status).toBe(403);
    const invited = await users.admin.api.post<WorkspaceMembersView>(`/api/workspaces/${workspace.id}/members`, { email, role: "member" });
    expect(invited.status, JSON.stringify(invited.body)).toBe(201);
    expect(invited.body.invitations.map((i) => [i.email, i.role])).toContainEqual([email, "member"]);
    // Those who may not invite do not see who was invited.
    expect((await users.member.api.get<WorkspaceMembersView>(`/api/workspaces/${workspace.id}/members`)).body.invitations).toEqual([]);
    const mail = (await waitForMail(email))[0]!;
    expect(mail.text).toContain("\"Design\" workspace");
    const token = tokenIn(mail, "/invite/");
    // Whoever holds the link signs up (with any address) and accepts.
    const newcomer = await ctx.anon.newUser("ws-newcomer");
    const accepted = await newcomer.api.post<AcceptedInvitation>("/api/invitations/accept", { token });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body).toEqual({ workspaceId: workspace.id, role: "member" });
    expect((await newcomer.api.get<DocView>(`/api/docs/${doc.id}`)).body.role).toBe("editor");
    const after = (await users.owner.api.get<WorkspaceMembersView>(`/api/workspaces/${workspace.id}/members`)).body;
    expect(after.invitations.map((i) => i.email)).not.toContain(email);
    expect(after.items.map((m) => [m.userId, m.role])).toContainEqual([newcomer.auth.user.id, "member"]);
    // Used once.
    expect((await (await ctx.anon.newUser("ws-late")).api.post("/api/invitations/accept", { token })).status).toBe(404);

    // A cancelled invitation's link stops working.
    const other = `ws-cancelled-${crypto.randomUUID()}@example.test`;
    expect((await users.owner.api.post(`/api/workspaces/${workspace.id}/members`, { email: other, role: "guest" })).status).toBe(201);
    const otherToken = tokenIn((await waitForMail(other))[0]!, "/invite/");
    expect((await users.member.api.post(`/api/workspaces/${workspace.id}/invitations/cancel`, { email: other })).status).toBe(403);
    expect((await users.owner.api.post(`/api/workspaces/${workspace.id}/invitations/cancel`, { email: other })).status).toBe(204);
    expect((await (await ctx.anon.newUser("ws-too-late")).api.post("/api/invitations/accept", { token: otherToken })).status).toBe(404);
  });

  it("a workspace exports whole as one NDJSON archive for its owners, admins and auditors, each document importable again, into a workspace too", { timeout: 60_000 }, async () => {
    const team = (await users.owner.api.post<WorkspaceView>("/api/workspaces", { name: "Archive me" })).body;
    for (const [who, role] of [["admin", "admin"], ["member", "member"], ["auditor", "auditor"]] as const) {
      expect((await users.owner.api.post(`/api/workspaces/${team.id}/members`, { email: users[who].auth.user.email, role })).status).toBe(201);
    }
    const titles = ["First", "Second", "Third"];
    const made: DocView[] = [];
    for (const title of titles) made.push((await users.member.api.post<DocView>("/api/docs", { title, workspaceId: team.id })).body);
    const c = ctx.client(made[0]!.id, users.member.auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true), WAIT);
    c.doc.getText("t").insert(0, "exported words");
    await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, made[0]!.id)).toBe(1), WAIT);
    expect((await users.member.api.post(`/api/docs/${made[1]!.id}/comments`, { body: "kept in the archive" })).status).toBe(201);

    const download = async (api: TestApi) => fetch(`${api.baseUrl}/api/workspaces/${team.id}/export`, { headers: { authorization: `Bearer ${api.token}` } });
    for (const who of ["member", "guest", "stranger"] as const) expect((await download(users[who].api)).status, who).toBe(who === "member" ? 403 : 404);
    for (const who of ["owner", "admin", "auditor"] as const) {
      const res = await download(users[who].api);
      expect(res.status, who).toBe(200);
      const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as { type: string; id?: string; archive?: { document: { title: string }; comments: unknown[]; yjsState: string }; workspace?: { name: string }; members?: unknown[] });
      expect(lines[0]!.type).toBe("workspace");
      expect(lines[0]!.workspace!.name).toBe("Archive me");
      expect(lines[0]!.members).toHaveLength(4);
      const docs = lines.slice(1);
      expect(docs.map((l) => l.type)).toEqual(["document", "document", "document"]);
      expect(docs.map((l) => l.archive!.document.title).sort()).toEqual(titles);
      expect(docs.find((l) => l.id === made[1]!.id)!.archive!.comments).toHaveLength(1);
      if (who !== "owner") continue;
      // Each document line imports on its own, here into another workspace the importer belongs to.
      const first = docs.find((l) => l.id === made[0]!.id)!.archive!;
      const res2 = await fetch(`${users.owner.api.baseUrl}/api/docs/import?format=archive&workspaceId=${workspace.id}`, {
        method: "POST",
        headers: { authorization: `Bearer ${users.owner.api.token}`, "content-type": "application/json" },
        body: JSON.stringify(first),
      });
      expect(res2.status).toBe(201);
      const imported = (await res2.json()) as DocView;
      expect(imported.title).toBe("First");
      expect((await users.owner.api.get<DocView>(`/api/docs/${imported.id}`)).body.workspaceId).toBe(workspace.id);
      const back = ctx.client(imported.id, users.owner.auth.accessToken);
      await vi.waitFor(() => expect(back.text()).toBe("exported words"), WAIT);
    }
    // A guest cannot import into the workspace.
    const refused = await fetch(`${users.guest.api.baseUrl}/api/docs/import?format=md&workspaceId=${workspace.id}`, {
      method: "POST",
      headers: { authorization: `Bearer ${users.guest.api.token}`, "content-type": "text/markdown" },
      body: "# Not here",
    });
    expect(refused.status).toBe(403);
  });

  it("the document's member list names who reaches it through the workspace, and they can be mentioned", async () => {
    const view = (await users["guest-with-share"].api.get<MembersView>(`/api/docs/${doc.id}/members`)).body;
    expect(view.workspace?.id).toBe(workspace.id);
    const through = new Map(view.workspace!.members.map((m) => [m.userId, [m.role, m.workspaceRole]]));
    expect(through.get(users.admin.auth.user.id)).toEqual(["owner", "admin"]);
    expect(through.get(users.auditor.auth.user.id)).toEqual(["auditor", "auditor"]);
    // Guests reach nothing through the workspace; the one with a share is in the shares.
    expect(through.has(users.guest.auth.user.id)).toBe(false);
    expect(view.members.map((m) => m.userId)).toContain(users["guest-with-share"].auth.user.id);
    // The auditor was never shared the document one by one, and is mentioned all the same.
    const mention = await users.member.api.post(`/api/docs/${doc.id}/comments`, { body: "@Auditor please look", mentions: [users.auditor.auth.user.id] });
    expect(mention.status).toBe(201);
    await vi.waitFor(async () => {
      const inbox = (await users.auditor.api.get<{ items: { type: string; docId: string }[] }>("/api/notifications")).body.items;
      expect(inbox.some((n) => n.type === "mention" && n.docId === doc.id)).toBe(true);
    }, WAIT);
    // Someone outside the workspace with a share of this one document does not get its roster.
    const outsider = await ctx.anon.newUser("ws-outsider");
    expect((await users.member.api.post(`/api/docs/${doc.id}/members`, { email: outsider.auth.user.email, role: "viewer" })).status).toBe(201);
    expect((await outsider.api.get<MembersView>(`/api/docs/${doc.id}/members`)).body.workspace).toBeNull();
    // An admin manages the document but does not hand it over or remove its owner.
    expect((await users.admin.api.post(`/api/docs/${doc.id}/transfer`, { userId: users.auditor.auth.user.id })).status).toBe(403);
    expect((await users.admin.api.call("DELETE", `/api/docs/${doc.id}/members/${users.member.auth.user.id}`)).status).toBe(403);
    // A stranger cannot be mentioned.
    expect((await users.member.api.post(`/api/docs/${doc.id}/comments`, { body: "@Stranger", mentions: [users.stranger.auth.user.id] })).status).toBe(400);
  });
});
