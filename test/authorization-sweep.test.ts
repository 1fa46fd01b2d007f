// The authorisation sweep, generated from the gateway's route tables: every route, for every role
// in the permissions module, a stranger and an anonymous caller, with the expected status derived
// from the permission rules (packages/contracts/src/permissions.ts): allowed → 2xx, a member
// without the permission → 403, a stranger → 404 (a document's existence is not disclosed),
// anonymous → 401. Then /collab (write, read-only, refused) and cross-document id substitution:
// every id in a path or body replaced by one from a document the caller cannot see, with nothing
// changed in that document.

import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import sharp from "sharp";
import { Roles, WorkspaceRoles, can, workspaceDocumentRole, type WorkspaceRole, type Permission, type AuthResult, type CreatedApiToken, type DocView, type ErrorBody, type Role, type FileView, type PresignedUpload } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { apiRoutes, proxiedRoutes } from "../services/gateway/src/routes.ts";
import { useSystem } from "./system.ts";
import { rawConnect } from "./collab-client.ts";
import { storedDocEvents, storedEdits } from "./stream-helpers.ts";
import { tokenIn, waitForMail } from "./mail-helpers.ts";

const ctx = useSystem("authorization-sweep");
const WAIT = { timeout: 30_000, interval: 100 };

type Caller = Role | "stranger" | "anonymous";
const CALLERS: Caller[] = [...Roles, "stranger", "anonymous"];

/**
 * What each route requires. Keyed by the table's own `METHOD url`; the sweep fails on a route the
 * table has and this does not, so a new route cannot ship unclassified.
 */
type Requirement = Permission | "public" | "signed-in" | "leave" | "own-upload" | "off" | "workspace";
const requirements: Record<string, Requirement> = {
  "POST /api/auth/register": "public",
  "POST /api/auth/login": "public",
  "POST /api/auth/refresh": "public",
  "POST /api/auth/logout": "signed-in",
  "GET /api/auth/me": "signed-in",
  "POST /api/auth/logout-everywhere": "signed-in",
  "POST /api/auth/password": "signed-in",
  "POST /api/auth/password/forgot": "public",
  // The emailed link's token is the capability; no bearer token is asked for.
  "POST /api/auth/password/reset": "public",
  // Public where registration is confirmed by email (test/registration.test.ts); this system runs the
  // default, where the route is off: 404 for anyone, and no account made.
  "POST /api/auth/register/confirm": "off",
  // The link's token lets any signed-in holder in (a member keeps their role); anonymous callers sign in first.
  "POST /api/invitations/accept": "signed-in",
  // API tokens: each caller manages its own (an API token cannot: see the row below the sweep).
  "GET /api/auth/tokens": "signed-in",
  "POST /api/auth/tokens": "signed-in",
  "DELETE /api/auth/tokens/:id": "signed-in",
  "POST /api/docs": "signed-in",
  "GET /api/docs": "signed-in",
  // Moving decides who reaches the document through a workspace: its owner's (or a workspace owner's or admin's).
  "POST /api/docs/:id/move": "trash",
  // Anyone signed in has workspaces of their own; the rest is swept by workspace role in test/workspaces.test.ts.
  "GET /api/workspaces": "signed-in",
  "POST /api/workspaces": "signed-in",
  "GET /api/workspaces/:id": "workspace",
  "PATCH /api/workspaces/:id": "workspace",
  "DELETE /api/workspaces/:id": "workspace",
  "GET /api/workspaces/:id/members": "workspace",
  "POST /api/workspaces/:id/members": "workspace",
  "PATCH /api/workspaces/:id/members/:userId": "workspace",
  "DELETE /api/workspaces/:id/members/:userId": "workspace",
  "POST /api/workspaces/:id/invitations/cancel": "workspace",
  "GET /api/workspaces/:id/export": "workspace",
  "GET /api/workspaces/:id/audit": "workspace",
  // Anyone signed in searches; what they find is only what they may read (test/search.test.ts).
  "GET /api/search": "signed-in",
  "GET /api/docs/:id": "read",
  "PATCH /api/docs/:id": "rename",
  "DELETE /api/docs/:id": "trash",
  "POST /api/docs/:id/untrash": "trash",
  "GET /api/docs/:id/members": "read",
  "POST /api/docs/:id/members": "share",
  "PATCH /api/docs/:id/members/:userId": "manageMembers",
  "DELETE /api/docs/:id/members/:userId": "manageMembers",
  "POST /api/docs/:id/invitations/cancel": "share",
  "POST /api/docs/:id/leave": "leave",
  "POST /api/docs/:id/transfer": "transfer",
  "GET /api/docs/:id/activity": "history",
  "POST /api/docs/:id/versions": "write",
  "GET /api/docs/:id/versions": "history",
  "GET /api/docs/:id/versions/at": "history",
  "GET /api/docs/:id/versions/:seq": "history",
  "POST /api/docs/:id/restore": "write",
  "GET /api/docs/:id/diff": "history",
  "GET /api/docs/:id/history": "history",
  "GET /api/docs/:id/audit": "history",
  "GET /api/docs/:id/files": "read",
  // The current document as a file is for anyone who may read it; its history is not in it.
  "GET /api/docs/:id/export": "read",
  // A new document of the caller's own, from a file.
  "POST /api/docs/import": "signed-in",
  // Only who began a presigned upload finishes it; anyone else hears of no such upload.
  "POST /api/files/:id/complete": "own-upload",
  "DELETE /api/files/:id": "write",
  "POST /api/docs/:id/files": "write",
  "GET /api/files/:id": "read",
  "GET /api/files/:id/thumbnail": "read",
  "GET /api/notifications": "signed-in",
  "POST /api/notifications/read": "signed-in",
  "GET /api/notifications/settings": "signed-in",
  "PATCH /api/notifications/settings": "signed-in",
  "GET /api/docs/:id/comments": "read",
  "POST /api/docs/:id/comments": "comment",
  "POST /api/comments/:id/replies": "comment",
  // With `resolved`: any member who may comment resolves a thread (changing the text is the author's alone).
  "PATCH /api/comments/:id": "comment",
  // The fixture's comment is the owner's: only its author (and the owner, who moderates) deletes it.
  "DELETE /api/comments/:id": "moderateComments",
  // A webhook sends the document's events out of the platform: its owner's alone.
  "GET /api/docs/:id/webhooks": "manageWebhooks",
  "POST /api/docs/:id/webhooks": "manageWebhooks",
  "DELETE /api/webhooks/:id": "manageWebhooks",
  "GET /api/webhooks/:id/deliveries": "manageWebhooks",
  "POST /api/webhooks/:id/replay": "manageWebhooks",
};

/** Where the fixtures' webhooks point: nothing listens there, so their deliveries only fail and wait. */
const WEBHOOK_URL = "http://127.0.0.1:9/hook";

const table = [...apiRoutes.map((r) => ({ method: r.method, url: r.url, auth: r.auth })), ...proxiedRoutes.map((r) => ({ method: r.method, url: r.url, auth: true }))];
const key = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

/** The status class a caller must get: "2xx" when allowed. */
function expected(requirement: Requirement, who: Caller): "2xx" | 401 | 403 | 404 {
  if (requirement === "public") return "2xx";
  if (requirement === "off") return 404;
  if (who === "anonymous") return 401;
  if (requirement === "signed-in") return "2xx";
  // A document's id is no workspace: nobody learns more than that there is none.
  if (requirement === "workspace") return 404;
  if (who === "stranger") return 404;
  if (requirement === "leave") return who === "owner" ? 403 : "2xx";
  if (requirement === "own-upload") return can(who, "write") ? "2xx" : 404;
  return can(who, requirement) ? "2xx" : 403;
}

const users = {} as Record<Exclude<Caller, "anonymous"> | "target" | "other", { api: TestApi; auth: AuthResult }>;
const apiOf = (who: Caller): TestApi => (who === "anonymous" ? ctx.anon : users[who].api);

let pngBytes: Buffer;

beforeAll(async () => {
  for (const who of [...Roles, "stranger", "target", "other"] as const) users[who] = await ctx.anon.newUser(who);
  pngBytes = await sharp(Buffer.alloc(16 * 16 * 3, 90), { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer();
});

async function upload(api: TestApi, docId: string): Promise<FileView> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(pngBytes)], { type: "image/png" }), "pic.png");
  const res = await fetch(`${api.baseUrl}/api/docs/${docId}/files`, { method: "POST", headers: { authorization: `Bearer ${api.token}` }, body: form });
  const body = (await res.json()) as FileView;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** Two edits stored through /collab, so versions 1 and 2 exist. */
async function typeTwice(docId: string, by = users.owner): Promise<void> {
  const c = ctx.client(docId, by.auth.accessToken);
  await vi.waitFor(() => expect(c.provider.synced).toBe(true), WAIT);
  const before = await storedEdits(ctx.jsm, docId);
  c.doc.getText("t").insert(0, "one");
  await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, docId)).toBe(before + 1), WAIT);
  c.doc.getText("t").insert(3, " two");
  await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, docId)).toBe(before + 2), WAIT);
  // The edit log has them too (versions, diff and restore read it).
  const seen = await storedEdits(ctx.jsm, docId);
  await vi.waitFor(async () => expect((await by.api.get<{ items: unknown[] }>(`/api/docs/${docId}/history`)).body.items).toHaveLength(seen), WAIT);
  c.destroy();
}

interface Fixture {
  doc: DocView;
  file: FileView;
  invited: string;
  /** A thread the owner started. */
  comment: string;
  /** A webhook the owner registered. */
  webhook: string;
}

/** A document with a member of each role (plus `target`, a viewer to act on), two edits, an image and a pending invitation. */
async function fixture(owner = users.owner, withFile = true): Promise<Fixture> {
  const doc = await owner.api.createDoc("Swept");
  // Every role but the owner's, from the permissions module: a new role is swept as soon as it exists.
  const members = Roles.filter((r) => r !== "owner").map((r): [keyof typeof users, Role] => [r, r]);
  const shares: [keyof typeof users, Role][] = owner === users.owner ? [...members, ["target", "viewer"]] : [["target", "editor"]];
  for (const [who, role] of shares) {
    const r = await owner.api.post(`/api/docs/${doc.id}/members`, { email: users[who].auth.user.email, role });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  const invited = `invited-${randomUUID()}@example.test`;
  expect((await owner.api.post(`/api/docs/${doc.id}/members`, { email: invited, role: "viewer" })).status).toBeLessThan(300);
  const file = withFile ? await upload(owner.api, doc.id) : ({ id: "none" } as FileView);
  const comment = await owner.api.post<{ id: string }>(`/api/docs/${doc.id}/comments`, { body: "What about this?" });
  expect(comment.status).toBe(201);
  const webhook = await owner.api.post<{ id: string }>(`/api/docs/${doc.id}/webhooks`, { url: WEBHOOK_URL, events: ["doc.renamed"] });
  expect(webhook.status, JSON.stringify(webhook.body)).toBe(201);
  return { doc, file, invited, comment: comment.body.id, webhook: webhook.body.id };
}

/** The request a route gets in the sweep: the fixture's ids in the path, a valid body. */
async function requestFor(route: { method: string; url: string }, f: Fixture, who: Caller): Promise<{ url: string; body?: unknown; multipart?: boolean }> {
  let fileId = f.file.id;
  if (route.url === "/api/files/:id/complete") {
    // Begun by the caller when it may attach files, else by the owner.
    const uploader = who !== "anonymous" && who !== "stranger" && can(who, "write") ? users[who] : users.owner;
    const grant = await uploader.api.post<PresignedUpload>(`/api/docs/${f.doc.id}/files`, { name: "p.png", size: pngBytes.length, contentType: "image/png" });
    expect(grant.status).toBe(201);
    expect((await fetch(grant.body.uploadUrl, { method: "PUT", headers: grant.body.headers, body: new Uint8Array(pngBytes) })).ok).toBe(true);
    fileId = grant.body.fileId;
  }
  const url = route.url
    .replace(":userId", users.target.auth.user.id)
    .replace(":seq", "1")
    .replace(":id", route.url.startsWith("/api/files/") ? fileId : route.url.startsWith("/api/comments/") ? f.comment : route.url.startsWith("/api/webhooks/") ? f.webhook : f.doc.id);
  const query: Record<string, string> = {
    "GET /api/docs/:id/versions/at": `?at=${encodeURIComponent(new Date().toISOString())}`,
    "GET /api/docs/:id/diff": "?from=1&to=2",
    "GET /api/search": "?q=fixture",
    "GET /api/docs/:id/export": "?format=archive",
    "POST /api/docs/import": "?format=md&title=Swept",
  };
  const bodies: Record<string, unknown> = {
    "POST /api/auth/register": { email: `u-${randomUUID()}@example.test`, password: "correct horse battery staple", name: "Swept" },
    "POST /api/auth/login": { email: users.viewer.auth.user.email, password: "correct horse battery staple" },
    "POST /api/auth/refresh": { refreshToken: (await ctx.anon.newUser("refresher")).auth.refreshToken },
    "POST /api/auth/logout": {},
    "POST /api/auth/logout-everywhere": {},
    "POST /api/auth/password": { currentPassword: "correct horse battery staple", newPassword: NEW_PASSWORD },
    "POST /api/auth/password/forgot": { email: users.viewer.auth.user.email },
    "POST /api/auth/register/confirm": { token: "t".repeat(43) },
    "POST /api/docs": { title: "New" },
    "POST /api/docs/:id/move": { workspaceId: null },
    "POST /api/workspaces": { name: `Workspace of ${who}` },
    "PATCH /api/workspaces/:id": { name: "Renamed" },
    "POST /api/workspaces/:id/members": { email: users.target.auth.user.email, role: "member" },
    "PATCH /api/workspaces/:id/members/:userId": { role: "admin" },
    "POST /api/workspaces/:id/invitations/cancel": { email: "nobody@example.test" },
    "PATCH /api/docs/:id": { title: `Renamed by ${who}` },
    "POST /api/docs/:id/members": { email: `x-${randomUUID()}@example.test`, role: "viewer" },
    "PATCH /api/docs/:id/members/:userId": { role: "editor" },
    "POST /api/docs/:id/invitations/cancel": { email: f.invited },
    "POST /api/docs/:id/transfer": { userId: users.target.auth.user.id },
    "POST /api/docs/:id/versions": { name: "Named", seq: 1 },
    "POST /api/docs/:id/restore": { seq: 1 },
    "POST /api/docs/:id/comments": { body: `From ${who}` },
    "POST /api/comments/:id/replies": { body: `Reply from ${who}` },
    "PATCH /api/comments/:id": { resolved: true },
    "POST /api/notifications/read": { all: true },
    "PATCH /api/notifications/settings": { email: "mentions" },
    "POST /api/docs/:id/webhooks": { url: WEBHOOK_URL, events: ["comment.created"] },
    "POST /api/webhooks/:id/replay": {},
    // Sent with the JSON media type: the import route takes the bytes of any of its types as the file.
    "POST /api/docs/import": "# Imported in the sweep",
  };
  const k = key(route);
  if (k === "POST /api/auth/password/reset") {
    const forgetful = await ctx.anon.newUser("forgetful");
    expect((await ctx.anon.post("/api/auth/password/forgot", { email: forgetful.auth.user.email })).status).toBe(202);
    bodies[k] = { token: tokenIn((await waitForMail(forgetful.auth.user.email))[0]!, "/reset-password/"), password: NEW_PASSWORD };
  }
  if (k === "POST /api/invitations/accept") bodies[k] = { token: tokenIn((await waitForMail(f.invited))[0]!, "/invite/") };
  bodies["POST /api/auth/tokens"] = { name: `Bot of ${who}`, scopes: ["read"] };
  // One of the caller's own tokens (a stranger's own too): revoking someone else's is a 404 like a missing one.
  const tokenUrl = k === "DELETE /api/auth/tokens/:id" ? `/api/auth/tokens/${who === "anonymous" ? randomUUID() : await ownTokenId(who)}` : undefined;
  return { url: (tokenUrl ?? url) + (query[k] ?? ""), ...(k in bodies ? { body: bodies[k] } : {}), multipart: k === "POST /api/docs/:id/files" };
}

const NEW_PASSWORD = "a different horse, battery and staple";

async function ownTokenId(who: Exclude<Caller, "anonymous">): Promise<string> {
  const created = await users[who].api.post<CreatedApiToken>("/api/auth/tokens", { name: "to revoke", scopes: ["read"] });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** Routes that end the caller's sessions or change its password: each cell gets a fresh account so the other cells keep theirs. */
const SPENDS_SESSION = new Set(["/api/auth/logout", "/api/auth/logout-everywhere", "/api/auth/password"]);

async function call(who: Caller, route: { method: string; url: string }, req: { url: string; body?: unknown; multipart?: boolean }): Promise<{ status: number; body: unknown }> {
  const api = SPENDS_SESSION.has(route.url) && who !== "anonymous" ? (await ctx.anon.newUser("leaving")).api : apiOf(who);
  return callAs(api, route, req);
}

async function callAs(api: TestApi, route: { method: string; url: string }, req: { url: string; body?: unknown; multipart?: boolean }): Promise<{ status: number; body: unknown }> {
  if (req.multipart) {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(pngBytes)], { type: "image/png" }), "pic.png");
    const res = await fetch(`${api.baseUrl}${req.url}`, { method: "POST", headers: api.token ? { authorization: `Bearer ${api.token}` } : {}, body: form });
    return { status: res.status, body: await res.text() };
  }
  return api.call(route.method, req.url, req.body);
}

describe("authorisation sweep over the route table", () => {
  it("classifies every route the gateway serves", () => {
    expect(table.map(key).filter((k) => !(k in requirements))).toEqual([]);
    expect(Object.keys(requirements).filter((k) => !table.some((r) => key(r) === k))).toEqual([]);
  });

  it("an API token, even the owner's with every scope, cannot reach the account's routes: its tokens, sessions, password and invitations", async () => {
    const created = await users.owner.api.post<CreatedApiToken>("/api/auth/tokens", { name: "sweep bot", scopes: ["read", "comment", "write"] });
    expect(created.status).toBe(201);
    const bot = ctx.anon.withToken(created.body.token);
    const accountRoutes = apiRoutes.filter((r) => r.sessionOnly);
    expect(accountRoutes.map(key).sort()).toEqual(
      [
        "DELETE /api/auth/tokens/:id",
        "GET /api/auth/tokens",
        "POST /api/auth/logout",
        "POST /api/auth/logout-everywhere",
        "POST /api/auth/password",
        "POST /api/auth/tokens",
        "POST /api/invitations/accept",
        // A webhook sends a document's news elsewhere for good: set up by its owner, signed in.
        "GET /api/docs/:id/webhooks",
        "POST /api/docs/:id/webhooks",
        "DELETE /api/webhooks/:id",
        "GET /api/webhooks/:id/deliveries",
        "POST /api/webhooks/:id/replay",
        // Workspaces are managed by people signed in.
        "GET /api/workspaces",
        "POST /api/workspaces",
        "GET /api/workspaces/:id",
        "PATCH /api/workspaces/:id",
        "DELETE /api/workspaces/:id",
        "GET /api/workspaces/:id/members",
        "POST /api/workspaces/:id/members",
        "PATCH /api/workspaces/:id/members/:userId",
        "DELETE /api/workspaces/:id/members/:userId",
        "POST /api/workspaces/:id/invitations/cancel",
        "GET /api/workspaces/:id/export",
        "GET /api/workspaces/:id/audit",
        // The person's own inbox and its settings.
        "GET /api/notifications",
        "POST /api/notifications/read",
        "GET /api/notifications/settings",
        "PATCH /api/notifications/settings",
      ].sort(),
    );
    const bodies: Record<string, unknown> = {
      "POST /api/auth/tokens": { name: "escalated", scopes: ["write"] },
      "POST /api/auth/password": { currentPassword: "correct horse battery staple", newPassword: NEW_PASSWORD },
      "POST /api/invitations/accept": { token: "t".repeat(43) },
      "POST /api/auth/logout": {},
      "POST /api/auth/logout-everywhere": {},
      "POST /api/docs/:id/webhooks": { url: WEBHOOK_URL, events: ["doc.renamed"] },
      "POST /api/webhooks/:id/replay": {},
      "POST /api/notifications/read": { all: true },
      "PATCH /api/notifications/settings": { email: "none" },
      "POST /api/workspaces": { name: "By a bot" },
      "PATCH /api/workspaces/:id": { name: "By a bot" },
      "POST /api/workspaces/:id/members": { email: "bot@example.test", role: "member" },
      "PATCH /api/workspaces/:id/members/:userId": { role: "member" },
      "POST /api/workspaces/:id/invitations/cancel": { email: "bot@example.test" },
    };
    for (const route of accountRoutes) {
      const res = await bot.call<ErrorBody>(route.method, route.url.replace(":id", created.body.id).replace(":userId", created.body.id), bodies[key(route)]);
      expect(res.status, key(route)).toBe(403);
      expect(res.body.error.code, key(route)).toBe("API_TOKEN_NOT_ALLOWED");
    }
    // Nothing changed: the token still works, and is still listed.
    expect((await bot.get("/api/docs")).status).toBe(200);
    expect((await users.owner.api.get<{ items: { id: string }[] }>("/api/auth/tokens")).body.items.map((t) => t.id)).toContain(created.body.id);
  });

  it("every route x every caller gets the status the permission rules give", { timeout: 900_000 }, async () => {
    // Reads share one fixture; every command gets its own, since it may change the members or trash the document.
    const shared = await fixture();
    await typeTwice(shared.doc.id);
    await vi.waitFor(async () => {
      const files = await users.owner.api.get<{ items: FileView[] }>(`/api/docs/${shared.doc.id}/files`);
      expect(files.body.items.find((x) => x.id === shared.file.id)?.thumbnail).toBe("ready");
    }, WAIT);
    const mismatches: string[] = [];
    let cells = 0;
    for (const route of table) {
      const requirement = requirements[key(route)]!;
      for (const who of requirement === "public" || requirement === "off" ? (["anonymous"] as const) : CALLERS) {
        const f = route.method === "GET" ? shared : await fixture(users.owner, route.url.startsWith("/api/files/"));
        if (route.method !== "GET" && ["POST /api/docs/:id/versions", "POST /api/docs/:id/restore"].includes(key(route))) await typeTwice(f.doc.id);
        if (key(route) === "POST /api/docs/:id/untrash") expect((await users.owner.api.call("DELETE", `/api/docs/${f.doc.id}`)).status).toBe(204);
        const req = await requestFor(route, f, who);
        const res = await call(who, route, req);
        const want = expected(requirement, who);
        const ok = want === "2xx" ? res.status >= 200 && res.status < 300 : res.status === want;
        cells++;
        if (!ok) mismatches.push(`${key(route)} as ${who}: want ${want}, got ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
        if (res.status >= 400) {
          const err = typeof res.body === "string" ? (JSON.parse(res.body) as { error?: { code?: string } }).error : (res.body as { error?: { code?: string } }).error;
          if (typeof err?.code !== "string") mismatches.push(`${key(route)} as ${who}: ${res.status} without the error shape`);
        }
      }
    }
    process.stdout.write(`authorisation sweep: ${cells} cells over ${table.length} routes x ${CALLERS.length} callers, ${mismatches.length} mismatches\n`);
    expect(mismatches).toEqual([]);
  });

  it("every document route x every workspace role gets the status the permission rules give for the role the workspace gives there", { timeout: 900_000 }, async () => {
    // A workspace whose owner makes the documents (so owns them); the others reach them only through it.
    const ws: Record<WorkspaceRole, { api: TestApi; auth: AuthResult }> = {} as never;
    for (const role of WorkspaceRoles) ws[role] = await ctx.anon.newUser(`ws-${role}`);
    const workspace = (await ws.owner.api.post<{ id: string }>("/api/workspaces", { name: "Swept" })).body;
    for (const role of WorkspaceRoles.filter((r) => r !== "owner")) {
      expect((await ws.owner.api.post(`/api/workspaces/${workspace.id}/members`, { email: ws[role].auth.user.email, role })).status).toBe(201);
    }
    const inWorkspace = async (withFile: boolean): Promise<Fixture> => {
      const f = await fixture(ws.owner, withFile);
      expect((await ws.owner.api.post(`/api/docs/${f.doc.id}/move`, { workspaceId: workspace.id })).status).toBe(200);
      return f;
    };
    const shared = await inWorkspace(true);
    await typeTwice(shared.doc.id, ws.owner);
    await vi.waitFor(async () => {
      const files = await ws.owner.api.get<{ items: FileView[] }>(`/api/docs/${shared.doc.id}/files`);
      expect(files.body.items.find((x) => x.id === shared.file.id)?.thumbnail).toBe("ready");
    }, WAIT);
    // The document routes; finishing an upload is the uploader's own, whatever the role (the sweep above).
    const routes = table.filter((r) => /^\/api\/(docs|files|comments|webhooks)\/:id/.test(r.url) && requirements[key(r)] !== "own-upload");
    const mismatches: string[] = [];
    for (const route of routes) {
      const requirement = requirements[key(route)]!;
      for (const who of [...WorkspaceRoles, "stranger"] as const) {
        const f = route.method === "GET" ? shared : await inWorkspace(route.url.startsWith("/api/files/"));
        if (route.method !== "GET" && ["POST /api/docs/:id/versions", "POST /api/docs/:id/restore"].includes(key(route))) await typeTwice(f.doc.id, ws.owner);
        if (key(route) === "POST /api/docs/:id/untrash") expect((await ws.owner.api.call("DELETE", `/api/docs/${f.doc.id}`)).status).toBe(204);
        const role: Caller = who === "stranger" ? "stranger" : (workspaceDocumentRole(who) ?? "stranger");
        const req = await requestFor(route, f, role);
        const res = await callAs(who === "stranger" ? users.stranger.api : ws[who].api, route, req);
        // One leaves one's own share; someone who reaches the document through the workspace leaves
        // the workspace. Only the document's owner (the workspace owner, who made it) hands it over.
        const want =
          requirement === "leave"
            ? role === "stranger" ? 404 : who === "owner" ? 403 : 409
            : requirement === "transfer"
              ? role === "stranger" ? 404 : who === "owner" ? "2xx" : 403
              : expected(requirement, role);
        const ok = want === "2xx" ? res.status >= 200 && res.status < 300 : res.status === want;
        if (!ok) mismatches.push(`${key(route)} as workspace ${who}: want ${want}, got ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
      }
    }
    process.stdout.write(`workspace sweep: ${routes.length} document routes x ${WorkspaceRoles.length + 1} callers, ${mismatches.length} mismatches\n`);
    expect(mismatches).toEqual([]);
  });

  it("/collab: owners and editors write, commenters and viewers only read, strangers and anonymous callers are refused before any data", { timeout: 120_000 }, async () => {
    const { doc } = await fixture();
    const wsUrl = ctx.system.gatewayUrl().replace(/^http/, "ws");
    for (const who of CALLERS) {
      const canRead = who !== "stranger" && who !== "anonymous" && can(who, "read");
      if (!canRead) {
        const s = rawConnect(`${wsUrl}/collab/${doc.id}${who === "anonymous" ? "" : `?token=${users[who].auth.accessToken}`}`);
        const closed = await s.closed;
        expect(closed.code, who).toBe(who === "anonymous" ? 4401 : 4403);
        expect(s.messages.every((m) => m[0] === 2), `${who} got document data`).toBe(true);
        continue;
      }
      const before = await storedEdits(ctx.jsm, doc.id);
      const c = ctx.client(doc.id, users[who as Role].auth.accessToken);
      await vi.waitFor(() => expect(c.provider.synced, who).toBe(true), WAIT);
      c.doc.getText("t").insert(0, `[${who}]`);
      const watcher = ctx.client(doc.id, users.owner.auth.accessToken);
      if (can(who as Role, "write")) {
        await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, doc.id), who).toBe(before + 1), WAIT);
        await vi.waitFor(() => expect(watcher.text()).toContain(`[${who}]`), WAIT);
      } else {
        // A marker from the owner after the refused edit: once the watcher has it, the refused one would have arrived first.
        await vi.waitFor(() => expect(watcher.provider.synced).toBe(true), WAIT);
        watcher.doc.getText("t").insert(0, `(after ${who})`);
        await vi.waitFor(() => expect(c.text()).toContain(`(after ${who})`), WAIT);
        expect(await storedEdits(ctx.jsm, doc.id), who).toBe(before + 1);
        const fresh = ctx.client(doc.id, users.owner.auth.accessToken);
        await vi.waitFor(() => expect(fresh.text()).toContain(`(after ${who})`), WAIT);
        expect(fresh.text()).not.toContain(`[${who}]`);
      }
    }
  });

  it("ids from a document the caller cannot see, substituted into every path and body, get 403 or 404 and change nothing there", { timeout: 300_000 }, async () => {
    // The caller owns A (every permission there) and has no access to B.
    const a = await fixture();
    await typeTwice(a.doc.id);
    const b = await fixture(users.other);
    await typeTwice(b.doc.id, users.other);
    await typeTwice(b.doc.id, users.other);
    // `target` is a member of both; this one is a member of B only.
    const onlyB = (await ctx.anon.newUser("only-b")).auth;
    expect((await users.other.api.post(`/api/docs/${b.doc.id}/members`, { email: onlyB.user.email, role: "viewer" })).status).toBe(201);
    const snapshot = async () => ({
      doc: (await users.other.api.get(`/api/docs/${b.doc.id}`)).body,
      members: (await users.other.api.get(`/api/docs/${b.doc.id}/members`)).body,
      files: (await users.other.api.get(`/api/docs/${b.doc.id}/files`)).body,
      versions: (await users.other.api.get(`/api/docs/${b.doc.id}/versions`)).body,
      comments: (await users.other.api.get(`/api/docs/${b.doc.id}/comments`)).body,
      webhooks: (await users.other.api.get(`/api/docs/${b.doc.id}/webhooks`)).body,
      edits: await storedEdits(ctx.jsm, b.doc.id),
      events: await storedDocEvents(ctx.jsm, b.doc.id),
    });
    const before = await snapshot();
    const grant = await users.other.api.post<PresignedUpload>(`/api/docs/${b.doc.id}/files`, { name: "b.png", size: pngBytes.length, contentType: "image/png" });
    expect((await fetch(grant.body.uploadUrl, { method: "PUT", headers: grant.body.headers, body: new Uint8Array(pngBytes) })).ok).toBe(true);
    const bHead = 4;
    const owner = users.owner.api;
    const cases: { what: string; send: () => Promise<{ status: number; body: unknown }>; allowed: number[] }[] = [];
    // B's document id in every route that takes a document id.
    for (const route of table.filter((r) => r.url.startsWith("/api/docs/:id"))) {
      cases.push({
        what: `${key(route)} with B's id`,
        send: async () => {
          const req = await requestFor(route, a, "owner");
          return call("owner", route, { ...req, url: req.url.replace(a.doc.id, b.doc.id) });
        },
        allowed: [404],
      });
    }
    // B's file ids in every route that takes a file id (the finished file and the presigned one).
    for (const route of table.filter((r) => r.url.startsWith("/api/files/:id"))) {
      for (const fileId of [b.file.id, grant.body.fileId]) {
        cases.push({ what: `${key(route)} with B's file ${fileId}`, send: () => owner.call(route.method, route.url.replace(":id", fileId)), allowed: [404] });
      }
    }
    // B's comment in every route that takes a comment id.
    for (const route of table.filter((r) => r.url.startsWith("/api/comments/:id"))) {
      cases.push({
        what: `${key(route)} with B's comment`,
        send: async () => {
          const req = await requestFor(route, a, "owner");
          return call("owner", route, { ...req, url: req.url.replace(a.comment, b.comment) });
        },
        allowed: [404],
      });
    }
    // B's webhook in every route that takes a webhook id.
    for (const route of table.filter((r) => r.url.startsWith("/api/webhooks/:id"))) {
      cases.push({
        what: `${key(route)} with B's webhook`,
        send: async () => {
          const req = await requestFor(route, a, "owner");
          return call("owner", route, { ...req, url: req.url.replace(a.webhook, b.webhook) });
        },
        allowed: [404],
      });
    }
    // A member of B only, in A's member routes and transfer.
    cases.push({ what: "PATCH A's member: B's member", send: () => owner.call("PATCH", `/api/docs/${a.doc.id}/members/${onlyB.user.id}`, { role: "editor" }), allowed: [404] });
    cases.push({ what: "DELETE A's member: B's member", send: () => owner.call("DELETE", `/api/docs/${a.doc.id}/members/${onlyB.user.id}`), allowed: [404] });
    cases.push({ what: "transfer A to B's member", send: () => owner.post(`/api/docs/${a.doc.id}/transfer`, { userId: onlyB.user.id }), allowed: [403, 404, 400, 409] });
    cases.push({ what: "comment on A mentioning B's member", send: () => owner.post(`/api/docs/${a.doc.id}/comments`, { body: "@B", mentions: [onlyB.user.id] }), allowed: [400] });
    cases.push({ what: "cancel B's invitation on A", send: () => owner.post(`/api/docs/${a.doc.id}/invitations/cancel`, { email: b.invited }), allowed: [404] });
    // B's version numbers (B has more edits than A) in A's version routes.
    cases.push({ what: "A's version at B's head", send: () => owner.get(`/api/docs/${a.doc.id}/versions/${bHead}`), allowed: [404, 400] });
    cases.push({ what: "diff A to B's head", send: () => owner.get(`/api/docs/${a.doc.id}/diff?from=1&to=${bHead}`), allowed: [404, 400] });
    cases.push({ what: "name A's version at B's head", send: () => owner.post(`/api/docs/${a.doc.id}/versions`, { name: "x", seq: bHead }), allowed: [400, 404] });
    cases.push({ what: "restore A to B's head", send: () => owner.post(`/api/docs/${a.doc.id}/restore`, { seq: bHead }), allowed: [400, 404] });
    cases.push({ what: "A's history from an author of B", send: () => owner.get(`/api/docs/${a.doc.id}/history?author=${users.other.auth.user.id}`), allowed: [200] });
    const wrong: string[] = [];
    for (const c of cases) {
      const res = await c.send();
      if (!c.allowed.includes(res.status)) wrong.push(`${c.what}: got ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
    }
    // The /collab route with B's id.
    const s = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${b.doc.id}?token=${users.owner.auth.accessToken}`);
    expect((await s.closed).code).toBe(4403);
    process.stdout.write(`cross-document substitution: ${cases.length + 1} cases, ${wrong.length} wrong\n`);
    expect(wrong).toEqual([]);
    // Nothing changed in B: its document, members, files, named versions, edits and events.
    expect(await snapshot()).toEqual(before);
  });
});
