import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { createHmac } from "node:crypto";
import { TestApi, type RunningSystem } from "@palimpsest/devkit";
import type { AuthResult, DocView, ErrorBody } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { rawConnect } from "./collab-client.ts";
import { currentSigningKey, foreignSigner, mint, tamper, unsignedToken } from "./token-helpers.ts";

let system: RunningSystem;
let anon: TestApi;
let owner: AuthResult;
let doc: DocView;

beforeAll(async () => {
  system = await startTestSystem("tokens");
  anon = new TestApi(system.gatewayUrl());
  const u = await anon.newUser("Owner");
  owner = u.auth;
  doc = await u.api.createDoc("Guarded");
});
afterAll(async () => {
  await system?.stop();
});

async function refusedEverywhere(token: string, code: string): Promise<void> {
  const rest = await anon.withToken(token).get<ErrorBody>("/api/auth/me");
  expect(rest.status).toBe(401);
  expect(rest.body.error.code).toBe(code);
  const docs = await anon.withToken(token).get<ErrorBody>(`/api/docs/${doc.id}`);
  expect(docs.status).toBe(401);
  const ws = rawConnect(`${system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${encodeURIComponent(token)}`);
  const closed = await ws.closed;
  expect(closed.code).toBe(4401);
  expect(closed.reason).toBe(code);
  // Only the auth message (type 2): no sync or awareness data.
  expect(ws.messages.every((m) => m[0] === 2)).toBe(true);
}

describe("access tokens the gateway refuses, on REST and on /collab", () => {
  const claims = () => ({ sub: owner.user.id, sid: "s-" + crypto.randomUUID() });

  it("a valid token is accepted (control)", async () => {
    const signer = await currentSigningKey(inject("storeEnv")["DATABASE_URL"]!, inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"]!);
    const token = await mint(signer, { sub: owner.user.id, sid: crypto.randomUUID() });
    expect((await anon.withToken(token).get(`/api/docs/${doc.id}`)).status).toBe(200);
  });

  it("a forged signature", async () => {
    await refusedEverywhere(tamper(owner.accessToken, { sub: "someone-else" }), "TOKEN_INVALID");
  });

  it("alg none", async () => {
    const now = Math.floor(Date.now() / 1000);
    await refusedEverywhere(unsignedToken({ ...claims(), iss: "palimpsest", aud: "palimpsest", iat: now, exp: now + 600 }), "TOKEN_INVALID");
  });

  it("HS256 signed with the public key (algorithm confusion)", async () => {
    const jwks = (await anon.get<{ keys: { x: string; kid: string }[] }>("/.well-known/jwks.json")).body;
    const key = jwks.keys[0]!;
    const now = Math.floor(Date.now() / 1000);
    const h = Buffer.from(JSON.stringify({ alg: "HS256", kid: key.kid, typ: "JWT" })).toString("base64url");
    const p = Buffer.from(JSON.stringify({ ...claims(), iss: "palimpsest", aud: "palimpsest", iat: now, exp: now + 600 })).toString("base64url");
    const sig = createHmac("sha256", JSON.stringify(key)).update(`${h}.${p}`).digest("base64url");
    await refusedEverywhere(`${h}.${p}.${sig}`, "TOKEN_INVALID");
  });

  it("expired", async () => {
    const signer = await currentSigningKey(inject("storeEnv")["DATABASE_URL"]!, inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"]!);
    await refusedEverywhere(await mint(signer, { ...claims(), iat: -1200, nbf: -1200, exp: -600 }), "TOKEN_EXPIRED");
  });

  it("not yet valid", async () => {
    const signer = await currentSigningKey(inject("storeEnv")["DATABASE_URL"]!, inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"]!);
    await refusedEverywhere(await mint(signer, { ...claims(), nbf: 600, exp: 1200 }), "TOKEN_INVALID");
  });

  it("wrong issuer and wrong audience", async () => {
    const signer = await currentSigningKey(inject("storeEnv")["DATABASE_URL"]!, inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"]!);
    await refusedEverywhere(await mint(signer, { ...claims(), iss: "someone-else" }), "TOKEN_INVALID");
    await refusedEverywhere(await mint(signer, { ...claims(), aud: "another-app" }), "TOKEN_INVALID");
  });

  it("an unknown kid (a key the auth service never published)", async () => {
    await refusedEverywhere(await mint(await foreignSigner(), claims()), "TOKEN_INVALID");
  });

  it("garbage and a missing token", async () => {
    await refusedEverywhere("not.a.jwt", "TOKEN_INVALID");
    const none = await anon.get<ErrorBody>("/api/auth/me");
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("UNAUTHENTICATED");
  });
});
