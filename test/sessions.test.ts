import { afterAll, afterEach, beforeAll, describe, expect, it, vi, inject } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { decodeProtectedHeader } from "jose";
import { TestApi, repoRoot, serviceDatabaseEnv, type RunningSystem } from "@palimpsest/devkit";
import type { AuthResult, ErrorBody } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { connectClient, rawConnect, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
let anon: TestApi;
const clients: CollabClient[] = [];

beforeAll(async () => {
  system = await startTestSystem("sessions");
  anon = new TestApi(system.gatewayUrl());
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await system?.stop();
});

function live(docId: string, token: string): CollabClient {
  const c = connectClient(system.gatewayUrl(), docId, token);
  clients.push(c);
  return c;
}

function closeCodes(c: CollabClient): number[] {
  const codes: number[] = [];
  c.provider.on("connection-close", (event) => {
    if (event) codes.push(event.code);
  });
  return codes;
}

describe("ending a session", () => {
  it("logout refuses the session's access token at once and closes its open /collab sockets", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Open");
    const c = live(doc.id, auth.accessToken);
    const codes = closeCodes(c);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));

    expect((await api.post("/api/auth/logout", { refreshToken: auth.refreshToken })).status).toBe(204);
    await vi.waitFor(() => expect(codes).toContain(4401));
    const after = await api.get<ErrorBody>("/api/docs");
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("SESSION_REVOKED");
    expect((await anon.post("/api/auth/refresh", { refreshToken: auth.refreshToken })).status).toBe(401);
    const reopen = rawConnect(`${system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${auth.accessToken}`);
    expect((await reopen.closed).code).toBe(4401);
  });

  it("reusing a rotated refresh token revokes the family and closes its sockets", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Stolen");
    const rotated = await anon.post<AuthResult>("/api/auth/refresh", { refreshToken: auth.refreshToken });
    const c = live(doc.id, rotated.body.accessToken);
    const codes = closeCodes(c);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));

    // An attacker replays the old refresh token.
    expect((await anon.post("/api/auth/refresh", { refreshToken: auth.refreshToken })).status).toBe(401);
    await vi.waitFor(() => expect(codes).toContain(4401));
    expect((await anon.withToken(rotated.body.accessToken).get("/api/docs")).status).toBe(401);
    expect((await anon.post("/api/auth/refresh", { refreshToken: rotated.body.refreshToken })).status).toBe(401);
  });

  it("other sessions of the same user are unaffected", async () => {
    const { auth } = await anon.newUser();
    const second = await anon.post<AuthResult>("/api/auth/login", { email: auth.user.email, password: "correct horse battery staple" });
    await anon.withToken(auth.accessToken).post("/api/auth/logout", {});
    expect((await anon.withToken(second.body.accessToken).get("/api/docs")).status).toBe(200);
  });
});

describe("signing keys", () => {
  it("rotating the key keeps existing sessions working, and new tokens use the new key", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Rotation");
    const before = live(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(before.provider.synced).toBe(true));
    const oldKid = decodeProtectedHeader(auth.accessToken).kid;

    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/rotate-signing-key.ts"], {
      cwd: repoRoot,
      // As the auth service runs: its own database role and the key sealing signing keys.
      env: { ...process.env, ...serviceDatabaseEnv(inject("storeEnv"), "auth"), SIGNING_KEY_ENCRYPTION_KEY: inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"] },
    });
    const newKid = /new signing key (\S+)/.exec(stdout)?.[1];
    expect(newKid).toBeDefined();
    expect(newKid).not.toBe(oldKid);

    // The old token still verifies, on REST and on the open socket.
    expect((await api.get("/api/docs")).status).toBe(200);
    before.doc.getText("t").insert(0, "still here");
    const fresh = await vi.waitFor(async () => {
      const login = await anon.post<AuthResult>("/api/auth/login", { email: auth.user.email, password: "correct horse battery staple" });
      expect(decodeProtectedHeader(login.body.accessToken).kid).toBe(newKid);
      return login.body;
    });
    // The gateway has never seen this kid: it reloads the key set and accepts the token.
    expect((await anon.withToken(fresh.accessToken).get("/api/docs")).status).toBe(200);
    const after = live(doc.id, fresh.accessToken);
    await vi.waitFor(() => expect(after.text()).toBe("still here"));
    const jwks = await anon.get<{ keys: { kid: string }[] }>("/.well-known/jwks.json");
    expect(jwks.body.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
  });

  it("issued tokens keep verifying while the auth service is down and after it restarts", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Outage");
    const [authService] = system.byName("auth");
    await authService!.process.stop();
    try {
      // Verification is local to the gateway: no call to auth per request.
      expect((await api.get(`/api/docs/${doc.id}`)).status).toBe(200);
      expect((await anon.post<ErrorBody>("/api/auth/login", { email: auth.user.email, password: "x" })).body.error.code).toBe("UNAVAILABLE");
    } finally {
      await system.start();
    }
    expect((await api.get(`/api/docs/${doc.id}`)).status).toBe(200);
    const c = live(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
  });
});
