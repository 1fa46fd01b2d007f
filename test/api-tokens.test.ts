import { describe, expect, it, vi } from "vitest";
import type { ApiTokenView, AuditEditLine, AuditLine, CreatedApiToken, DocView, EditView, ErrorBody, Page } from "@palimpsest/contracts";
import { verifyTrail } from "../scripts/audit-trail.ts";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import { rawConnect, type CollabClient } from "./collab-client.ts";
import { storedEdits } from "./stream-helpers.ts";

const ctx = useSystem("api-tokens");

async function newToken(api: TestApi, body: { name: string; scopes: string[]; expiresAt?: string }): Promise<CreatedApiToken> {
  const res = await api.post<CreatedApiToken>("/api/auth/tokens", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function listTokens(api: TestApi): Promise<ApiTokenView[]> {
  const res = await api.get<{ items: ApiTokenView[] }>("/api/auth/tokens");
  expect(res.status).toBe(200);
  return res.body.items;
}

/** Counts the permission-denied messages (y-protocols auth, type 2) a client is sent. */
function deniedCount(c: CollabClient): () => number {
  let denied = 0;
  c.provider.ws?.addEventListener("message", (e: MessageEvent) => {
    if (new Uint8Array(e.data as ArrayBuffer)[0] === 2) denied++;
  });
  return () => denied;
}

function closeCodes(c: CollabClient): number[] {
  const codes: number[] = [];
  c.provider.on("connection-close", (event) => {
    if (event) codes.push(event.code);
  });
  return codes;
}

/** The document's text as a fresh signed-in connection of the owner's is sent it. */
async function storedText(docId: string, ownerToken: string, contains: string): Promise<string> {
  const fresh = ctx.client(docId, ownerToken);
  await vi.waitFor(() => expect(fresh.text()).toContain(contains));
  return fresh.text();
}

/** An edit through `token` is refused like a viewer's: it is told so, and nothing of it is stored. */
async function expectEditRefused(docId: string, token: string, ownerToken: string): Promise<void> {
  const before = await storedEdits(ctx.jsm, docId);
  const bot = ctx.client(docId, token);
  await vi.waitFor(() => expect(bot.provider.synced).toBe(true));
  const denied = deniedCount(bot);
  await vi.waitFor(() => {
    bot.doc.getText("t").insert(0, "[bot]");
    expect(denied()).toBeGreaterThan(0);
  });
  const owner = ctx.client(docId, ownerToken);
  await vi.waitFor(() => expect(owner.provider.synced).toBe(true));
  // The owner's edit after the bot's: once the bot sees it, the bot's was decided on long before.
  const mark = `[owner ${crypto.randomUUID()}]`;
  owner.doc.getText("t").insert(0, mark);
  await vi.waitFor(() => expect(bot.text()).toContain(mark));
  expect(await storedEdits(ctx.jsm, docId)).toBe(before + 1);
  expect(await storedText(docId, ownerToken, mark)).not.toContain("[bot]");
}

describe("managing API tokens", () => {
  it("a signed-in user creates, lists and revokes tokens; the value is shown once and never listed", async () => {
    const { api } = await ctx.anon.newUser("Tess");
    const created = await newToken(api, { name: "CI bot", scopes: ["read", "write"] });
    expect(created.token).toMatch(/^pal_[A-Za-z0-9-]+_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: "CI bot", scopes: ["read", "write"], expiresAt: null, lastUsedAt: null });
    const secret = created.token.slice(created.token.lastIndexOf("_") + 1);

    const listed = await api.get<{ items: ApiTokenView[] }>("/api/auth/tokens");
    expect(listed.body.items).toEqual([{ id: created.id, name: "CI bot", scopes: ["read", "write"], createdAt: created.createdAt, expiresAt: null, lastUsedAt: null }]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const bot = ctx.anon.withToken(created.token);
    expect((await bot.get("/api/docs")).status).toBe(200);
    expect((await api.call("DELETE", `/api/auth/tokens/${created.id}`)).status).toBe(204);
    const refused = await bot.get<ErrorBody>("/api/docs");
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("SESSION_REVOKED");
    expect(await listTokens(api)).toEqual([]);
    // Nobody else's token can be revoked, nor found.
    const other = await newToken(api, { name: "kept", scopes: ["read"] });
    const { api: stranger } = await ctx.anon.newUser("Stranger");
    expect((await stranger.call("DELETE", `/api/auth/tokens/${other.id}`)).status).toBe(404);
    expect((await ctx.anon.withToken(other.token).get("/api/docs")).status).toBe(200);
  });

  it("every input is checked: name, scopes (a non-empty set of known ones) and an expiry in the coming year", async () => {
    const { api } = await ctx.anon.newUser();
    const inAYear = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    for (const body of [
      { name: "", scopes: ["read"] },
      { name: "   ", scopes: ["read"] },
      { name: "x".repeat(101), scopes: ["read"] },
      { name: "bot", scopes: [] },
      { name: "bot", scopes: ["read", "read"] },
      { name: "bot", scopes: ["admin"] },
      { name: "bot", scopes: ["read"], expiresAt: new Date(Date.now() - 60_000).toISOString() },
      { name: "bot", scopes: ["read"], expiresAt: inAYear(400) },
      { name: "bot", scopes: ["read"], expiresAt: "tomorrow" },
      { name: "bot", scopes: ["read"], extra: true },
    ]) {
      const res = await api.post<ErrorBody>("/api/auth/tokens", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
    }
    expect(await listTokens(api)).toEqual([]);
    const ok = await newToken(api, { name: "  nightly  ", scopes: ["comment"], expiresAt: inAYear(300) });
    expect(ok.name).toBe("nightly");
  });

  it("a token cannot manage tokens, sessions or the password, nor a document's name, members or place in the trash", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const doc = await api.createDoc("Guarded");
    const { token } = await newToken(api, { name: "writer", scopes: ["read", "comment", "write"] });
    const bot = ctx.anon.withToken(token);
    const calls: [string, string, unknown?][] = [
      ["GET", "/api/auth/tokens"],
      ["POST", "/api/auth/tokens", { name: "escalated", scopes: ["write"] }],
      ["POST", "/api/auth/logout-everywhere", {}],
      ["POST", "/api/auth/logout", {}],
      ["POST", "/api/auth/password", { currentPassword: "correct horse battery staple", newPassword: "another long passphrase here" }],
      ["POST", "/api/invitations/accept", { token: "x".repeat(43) }],
      ["PATCH", `/api/docs/${doc.id}`, { title: "Renamed by a bot" }],
      ["POST", `/api/docs/${doc.id}/members`, { email: "someone@example.test", role: "editor" }],
      ["DELETE", `/api/docs/${doc.id}`],
      ["POST", `/api/docs/${doc.id}/transfer`, { userId: auth.user.id }],
    ];
    for (const [method, url, body] of calls) {
      const res = await bot.call<ErrorBody>(method, url, body);
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.body.error.code, `${method} ${url}`).toBe("API_TOKEN_NOT_ALLOWED");
    }
    expect((await api.get<DocView>(`/api/docs/${doc.id}`)).body.title).toBe("Guarded");
    expect(await listTokens(api)).toHaveLength(1);
    // What it may do: read, and make documents its owner owns.
    expect((await bot.get<DocView>(`/api/docs/${doc.id}`)).status).toBe(200);
    const made = await bot.post<DocView>("/api/docs", { title: "Made by a bot" });
    expect(made.status).toBe(201);
    expect(made.body.role).toBe("owner");
    expect((await api.get<DocView>(`/api/docs/${made.body.id}`)).status).toBe(200);
  });

  it("malformed and forged tokens get 401 and change nothing", async () => {
    const { api } = await ctx.anon.newUser();
    const doc = await api.createDoc("Untouched");
    const real = await newToken(api, { name: "real", scopes: ["write"] });
    const forged = [
      `pal_${real.id}_${"A".repeat(43)}`,
      `pal_${real.id}_`,
      "pal_garbage",
      `pal_${crypto.randomUUID()}_${"b".repeat(43)}`,
      "not-a-token-at-all",
    ];
    for (const token of forged) {
      const bot = ctx.anon.withToken(token);
      const res = await bot.call<ErrorBody>("PATCH", `/api/docs/${doc.id}`, { title: "Hijacked" });
      expect(res.status, token).toBe(401);
      expect(["TOKEN_INVALID", "UNAUTHENTICATED"]).toContain(res.body.error.code);
      expect((await bot.post("/api/docs", { title: "Forged" })).status).toBe(401);
      const socket = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${encodeURIComponent(token)}`);
      expect((await socket.closed).code).toBe(4401);
    }
    expect((await api.get<DocView>(`/api/docs/${doc.id}`)).body.title).toBe("Untouched");
    expect((await api.get<{ items: DocView[] }>("/api/docs")).body.items.map((d) => d.title)).toEqual(["Untouched"]);
    expect(await storedEdits(ctx.jsm, doc.id)).toBe(0);
    expect((await listTokens(api))[0]?.lastUsedAt).toBeNull();
    // The forgeries near its id neither revoked nor locked out the real token.
    expect((await ctx.anon.withToken(real.token).get<DocView>(`/api/docs/${doc.id}`)).status).toBe(200);
  });
});

describe("what a token may do on a document", () => {
  it("a bot with a write token edits through the unmodified y-websocket client, and history names the token and its owner", async () => {
    const { api, auth } = await ctx.anon.newUser("Olga Owner");
    const doc = await api.createDoc("Bot notes");
    const created = await newToken(api, { name: "Release bot", scopes: ["write"] });
    const bot = ctx.client(doc.id, created.token);
    await vi.waitFor(() => expect(bot.provider.synced).toBe(true));
    bot.doc.getText("t").insert(0, "released v1.2");
    expect(await storedText(doc.id, auth.accessToken, "released v1.2")).toBe("released v1.2");

    await vi.waitFor(async () => {
      const items = (await api.get<Page<EditView>>(`/api/docs/${doc.id}/history`)).body.items;
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ userId: auth.user.id, via: { tokenId: created.id, name: "Release bot" } });
    });
    // The trail carries it too, verifies offline, and no longer does once the attribution is changed.
    const audit = await fetch(`${ctx.system.gatewayUrl()}/api/docs/${doc.id}/audit`, { headers: { authorization: `Bearer ${auth.accessToken}` } });
    expect(audit.status).toBe(200);
    const lines = (await audit.text()).split("\n").filter((l) => l !== "");
    const edit = lines.map((l) => JSON.parse(l) as AuditLine).find((l): l is AuditEditLine => l.type === "edit");
    expect(edit).toMatchObject({ author: auth.user.id, via: { tokenId: created.id, name: "Release bot" } });
    const verify = (ls: string[]) => verifyTrail((async function* () { yield* ls; })());
    expect((await verify(lines)).ok).toBe(true);
    const forged = lines.map((l) => l.replace('"name":"Release bot"', '"name":"Someone else"'));
    expect(forged).not.toEqual(lines);
    expect((await verify(forged)).ok).toBe(false);
  });

  it("a read token reads but cannot edit (refused like a viewer) nor comment; a comment token comments but cannot edit", async () => {
    const { api, auth } = await ctx.anon.newUser();
    const doc = await api.createDoc("Scoped");
    const reader = await newToken(api, { name: "reader", scopes: ["read"] });
    const commenter = await newToken(api, { name: "commenter", scopes: ["comment"] });

    const readBot = ctx.anon.withToken(reader.token);
    expect((await readBot.get(`/api/docs/${doc.id}`)).status).toBe(200);
    const comment = await readBot.post<ErrorBody>(`/api/docs/${doc.id}/comments`, { body: "from a read token" });
    expect(comment.status).toBe(403);
    await expectEditRefused(doc.id, reader.token, auth.accessToken);

    const commentBot = ctx.anon.withToken(commenter.token);
    expect((await commentBot.post(`/api/docs/${doc.id}/comments`, { body: "from a comment token" })).status).toBe(201);
    await expectEditRefused(doc.id, commenter.token, auth.accessToken);
  });

  it("a token never has more than its owner's role: a viewer's write token cannot edit or comment", async () => {
    const { api: owner, auth: ownerAuth } = await ctx.anon.newUser("Owner");
    const { api: viewer, auth: viewerAuth } = await ctx.anon.newUser("Viewer");
    const doc = await owner.createDoc("Read only for some");
    expect((await owner.post(`/api/docs/${doc.id}/members`, { email: viewerAuth.user.email, role: "viewer" })).status).toBe(201);
    const { token } = await newToken(viewer, { name: "eager bot", scopes: ["read", "comment", "write"] });
    const bot = ctx.anon.withToken(token);
    expect((await bot.get<DocView>(`/api/docs/${doc.id}`)).status).toBe(200);
    expect((await bot.post(`/api/docs/${doc.id}/comments`, { body: "hi" })).status).toBe(403);
    await expectEditRefused(doc.id, token, ownerAuth.accessToken);
    // Nor on a document its owner has no part in.
    const { api: other } = await ctx.anon.newUser();
    const foreign = await other.createDoc("Not yours");
    expect((await bot.get(`/api/docs/${foreign.id}`)).status).toBe(404);
    const socket = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${foreign.id}?token=${token}`);
    expect((await socket.closed).code).toBe(4403);
  });

  it("a revoked token is refused on REST at once and its open /collab connection closes", async () => {
    const { api } = await ctx.anon.newUser();
    const doc = await api.createDoc("Revoke me");
    const created = await newToken(api, { name: "doomed", scopes: ["write"] });
    const bot = ctx.client(doc.id, created.token);
    const codes = closeCodes(bot);
    await vi.waitFor(() => expect(bot.provider.synced).toBe(true));
    const rest = ctx.anon.withToken(created.token);
    expect((await rest.get(`/api/docs/${doc.id}`)).status).toBe(200);

    expect((await api.call("DELETE", `/api/auth/tokens/${created.id}`)).status).toBe(204);
    expect((await rest.get(`/api/docs/${doc.id}`)).status).toBe(401);
    await vi.waitFor(() => expect(codes).toContain(4401));
    const again = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${created.token}`);
    expect((await again.closed).code).toBe(4401);
  });

  it("an expired token is refused", async () => {
    const { api } = await ctx.anon.newUser();
    const doc = await api.createDoc("Short-lived");
    const created = await newToken(api, { name: "brief", scopes: ["read"], expiresAt: new Date(Date.now() + 1_500).toISOString() });
    const bot = ctx.anon.withToken(created.token);
    expect((await bot.get(`/api/docs/${doc.id}`)).status).toBe(200);
    await vi.waitFor(
      async () => {
        const res = await bot.get<ErrorBody>(`/api/docs/${doc.id}`);
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe("TOKEN_EXPIRED");
      },
      { timeout: 10_000, interval: 250 },
    );
    const socket = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${created.token}`);
    expect((await socket.closed).code).toBe(4401);
  });

  it("lastUsedAt appears once the token is used", async () => {
    const { api } = await ctx.anon.newUser();
    const created = await newToken(api, { name: "used", scopes: ["read"] });
    expect((await listTokens(api))[0]?.lastUsedAt).toBeNull();
    const before = Date.now();
    expect((await ctx.anon.withToken(created.token).get("/api/docs")).status).toBe(200);
    const used = (await listTokens(api))[0]?.lastUsedAt;
    expect(used).not.toBeNull();
    expect(Date.parse(used!)).toBeGreaterThanOrEqual(before - 1_000);
  });
});
