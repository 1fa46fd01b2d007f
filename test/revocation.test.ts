import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { decodeJwt } from "jose";
import WebSocket from "ws";
import { Redis } from "ioredis";
import { TestApi, type RunningSystem } from "@palimpsest/devkit";
import { COLLAB_PROTOCOL, collabProtocols, revokedSessionKey, type ErrorBody } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { rawConnect } from "./collab-client.ts";
import { startTcpBalancer, type TcpBalancer } from "./tcp-balancer.ts";
import { currentSigningKey, mint } from "./token-helpers.ts";

// Every service reaches Redis through a proxy this file can cut, to see what they do without it.
let redisProxy: TcpBalancer;
let redis: Redis;
let system: RunningSystem;
let anon: TestApi;

beforeAll(async () => {
  const real = new URL(inject("storeEnv")["REDIS_URL"]!);
  redis = new Redis(real.toString());
  redisProxy = await startTcpBalancer(() => [Number(real.port)]);
  const proxied = new URL(real.toString());
  proxied.port = new URL(redisProxy.url).port;
  system = await startTestSystem("revocation", { env: { REDIS_URL: proxied.toString(), SYNC_REVOCATION_RECHECK_MS: "500" } });
  anon = new TestApi(system.gatewayUrl());
});
afterAll(async () => {
  await system?.stop();
  await redisProxy?.close();
  redis?.disconnect();
});

const syncUrl = (docId: string, token: string) => `ws://127.0.0.1:${system.byName("sync")[0]!.port}/collab/${docId}?token=${token}`;
const filesUrl = (fileId: string) => `http://127.0.0.1:${system.byName("files")[0]!.port}/api/files/${fileId}`;

/** A signed-in user with a document, and the same session's token after logging out. */
async function revokedUser() {
  const { api, auth } = await anon.newUser();
  const doc = await api.createDoc("Revoked");
  expect((await api.post("/api/auth/logout", { refreshToken: auth.refreshToken })).status).toBe(204);
  return { api, auth, doc };
}

describe("revocation is checked where the data is served", () => {
  it("sync refuses a revoked session's token on a direct connection", async () => {
    const { auth, doc } = await revokedUser();
    const s = rawConnect(syncUrl(doc.id, auth.accessToken));
    expect((await s.closed).code).toBe(4401);
    expect(s.messages.filter((m) => m[0] === 0)).toEqual([]);
  });

  it("files refuses a revoked session's token on a direct request", async () => {
    const { auth } = await revokedUser();
    const res = await fetch(filesUrl("f-does-not-matter"), { headers: { authorization: `Bearer ${auth.accessToken}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).error.code).toBe("SESSION_REVOKED");
  });

  it("an open socket whose revocation notice was lost closes at the next re-check", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Lost notice");
    const s = rawConnect(syncUrl(doc.id, auth.accessToken));
    await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0));
    // Revoked in the shared list only, as if the collab.control notice never arrived.
    await redis.set(revokedSessionKey(decodeJwt(auth.accessToken)["sid"] as string), "1", "PX", 60_000);
    const closed = await s.closed;
    expect(closed.code).toBe(4401);
  });
});

describe("token lifetime on open sockets", () => {
  it("a /collab socket is closed with 4401 when its token expires", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Expiring");
    const claims = decodeJwt(auth.accessToken);
    const short = await mint(await currentSigningKey(inject("storeEnv")["DATABASE_URL"]!, inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"]!), { sub: claims.sub!, sid: claims["sid"] as string, exp: 8 });
    const s = rawConnect(`${system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${short}`);
    await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0));
    const openedAt = Date.now();
    const closed = await s.closed;
    expect(closed).toEqual({ code: 4401, reason: "access token expired" });
    expect(Date.now() - openedAt).toBeLessThan(20_000);
  });
});

describe("the access token stays out of URLs and logs", () => {
  it("a client may send the token as a WebSocket subprotocol; the server answers without echoing it", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Header token");
    const ws = new WebSocket(`${system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}`, collabProtocols(auth.accessToken));
    const first = new Promise<Buffer>((resolve, reject) => {
      ws.once("message", (data: Buffer) => resolve(data));
      ws.once("close", (code) => reject(new Error(`closed ${code}`)));
      ws.once("error", reject);
    });
    const message = await first;
    expect(ws.protocol).toBe(COLLAB_PROTOCOL);
    expect(message[0]).toBe(0);
    ws.close();
    // Nothing this system logged carries a token.
    for (const file of fs.readdirSync(system.logDir)) {
      expect(fs.readFileSync(path.join(system.logDir, file), "utf8"), file).not.toContain(auth.accessToken.split(".")[2]!);
    }
  });
});

// Last: Redis stays cut for the rest of this file.
describe("with Redis down", () => {
  it("a revoked token is still refused, by the gateway and by sync, and a live session still works", async () => {
    const { api, auth, doc } = await revokedUser();
    const live = await anon.newUser();
    await redisProxy.close();

    const refused = await api.get<ErrorBody>("/api/docs");
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("SESSION_REVOKED");
    const s = rawConnect(syncUrl(doc.id, auth.accessToken));
    expect((await s.closed).code).toBe(4401);
    // Issued while the services were listening for revocations: their local copy vouches for it.
    expect((await live.api.get("/api/docs")).status).toBe(200);
  });
});
