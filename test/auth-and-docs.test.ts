import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestApi, type RunningSystem } from "@palimpsest/devkit";
import type { AuthResult, DocView, ErrorBody, Page } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { randomUUID } from "node:crypto";

let system: RunningSystem;
let anon: TestApi;
beforeAll(async () => {
  system = await startTestSystem("auth-and-docs");
  anon = new TestApi(system.gatewayUrl());
});
afterAll(async () => {
  await system?.stop();
});

const password = "correct horse battery staple";

describe("accounts through the gateway", () => {
  it("registers, logs in and tells who I am", async () => {
    const email = `Ada.${randomUUID()}@Example.test`;
    const reg = await anon.post<AuthResult>("/api/auth/register", { email, password, name: "Ada" });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ email: email.toLowerCase(), name: "Ada" });
    expect(reg.body.accessToken.split(".")).toHaveLength(3);
    expect(reg.body.refreshToken.length).toBeGreaterThan(20);

    const login = await anon.post<AuthResult>("/api/auth/login", { email: email.toUpperCase(), password });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(reg.body.user.id);

    const me = await anon.withToken(login.body.accessToken).get<{ user: { id: string } }>("/api/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(reg.body.user.id);
  });

  it("refuses a wrong password and an unknown email with the same answer", async () => {
    const { auth } = await anon.newUser();
    const wrong = await anon.post<ErrorBody>("/api/auth/login", { email: auth.user.email, password: "not the password" });
    const unknown = await anon.post<ErrorBody>("/api/auth/login", { email: `nobody-${randomUUID()}@example.test`, password });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe("INVALID_CREDENTIALS");
  });

  it("keeps emails unique, also when two registrations race", async () => {
    const email = `race-${randomUUID()}@example.test`;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => anon.post<AuthResult | ErrorBody>("/api/auth/register", { email, password, name: "Racer" })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(409);
      expect((r.body as ErrorBody).error.code).toBe("EMAIL_TAKEN");
    }
  });

  it("explains a weak password and bad input without changing anything", async () => {
    const weak = await anon.post<ErrorBody>("/api/auth/register", { email: `w-${randomUUID()}@example.test`, password: "short", name: "W" });
    expect(weak.status).toBe(422);
    expect(weak.body.error.code).toBe("WEAK_PASSWORD");
    expect(weak.body.error.message).toMatch(/at least 10 characters/);

    const malformed = await anon.call<ErrorBody>("POST", "/api/auth/login", "{not json", { "content-type": "application/json" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("MALFORMED_JSON");

    const missing = await anon.post<ErrorBody>("/api/auth/register", { email: "a@b.c" });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe("VALIDATION_FAILED");
  });

  it("rotates refresh tokens and revokes the session when a rotated one is reused", async () => {
    const { auth } = await anon.newUser();
    const first = await anon.post<AuthResult>("/api/auth/refresh", { refreshToken: auth.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(auth.refreshToken);
    const reuse = await anon.post<ErrorBody>("/api/auth/refresh", { refreshToken: auth.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe("REFRESH_TOKEN_INVALID");
    // The family is revoked: even the newest token no longer works.
    const after = await anon.post<ErrorBody>("/api/auth/refresh", { refreshToken: first.body.refreshToken });
    expect(after.status).toBe(401);
  });

  it("lets exactly one of several concurrent refreshes with one token rotate it", async () => {
    const { auth } = await anon.newUser();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => anon.post<AuthResult | ErrorBody>("/api/auth/refresh", { refreshToken: auth.refreshToken })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(3);
  });

  it("refuses requests without a valid token", async () => {
    expect((await anon.get<ErrorBody>("/api/docs")).body.error.code).toBe("UNAUTHENTICATED");
    const forged = await anon.withToken("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.").get<ErrorBody>("/api/docs");
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe("TOKEN_INVALID");
  });
});

describe("documents through the gateway", () => {
  it("creates a document as an event, lists it, and hides it from strangers", async () => {
    const { api, auth } = await anon.newUser("Owner");
    const created = await api.post<DocView>("/api/docs", { title: "Design notes" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: "Design notes", kind: "text", role: "owner", ownerId: auth.user.id });

    const board = await api.createDoc("Planning", "board");
    const list = await api.get<Page<DocView>>("/api/docs");
    expect(list.status).toBe(200);
    expect(list.body.items.map((d) => d.id)).toEqual(expect.arrayContaining([created.body.id, board.id]));

    const found = await api.get<Page<DocView>>("/api/docs?q=design");
    expect(found.body.items.map((d) => d.id)).toEqual([created.body.id]);

    const { api: stranger } = await anon.newUser("Stranger");
    const peek = await stranger.get<ErrorBody>(`/api/docs/${created.body.id}`);
    expect(peek.status).toBe(404);
    expect((await stranger.get<Page<DocView>>("/api/docs")).body.items).toEqual([]);
  });

  it("pages through documents with a cursor", async () => {
    const { api } = await anon.newUser();
    for (let i = 0; i < 5; i++) await api.createDoc(`Doc ${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Page<DocView> } = await api.get<Page<DocView>>(`/api/docs?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.body.items.map((d) => d.title));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["Doc 4", "Doc 3", "Doc 2", "Doc 1", "Doc 0"]);
  });
});
