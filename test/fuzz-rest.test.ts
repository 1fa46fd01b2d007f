// Property-based fuzzing of the REST surface, generated from the gateway's own route tables:
// every route with hostile path ids, query strings and JSON bodies; access tokens (malformed,
// `alg: none`, unknown kid, tampered claims, foreign keys, expired) on REST and /collab; and the
// upload route's headers (content type, boundary, file name, content length). Bad input is
// answered with a 4xx and `{"error": {"code", "message"}}`, never a 5xx, and no service falls over.
// FUZZ_RUNS scales the number of runs.

import http from "node:http";
import { beforeAll, describe, expect, it, vi, inject } from "vitest";
import fc from "fast-check";
import * as Y from "yjs";
import type { AuthResult, DocView } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { apiRoutes, proxiedRoutes } from "../services/gateway/src/routes.ts";
import { useSystem } from "./system.ts";
import { rawConnect } from "./collab-client.ts";
import { storedUpdates } from "./stream-helpers.ts";
import { currentSigningKey, foreignSigner, mint, tamper, unsignedToken } from "./token-helpers.ts";

const ctx = useSystem("fuzz-rest");
const SCALE = Number(process.env["FUZZ_RUNS"] ?? "400") / 400;
const runs = (n: number) => Math.max(10, Math.round(n * SCALE));
const SEED = Number(process.env["FUZZ_SEED"] ?? "20261206");

let owner: { api: TestApi; auth: AuthResult };
const SPENDS_SESSION = new Set(["/api/auth/logout", "/api/auth/logout-everywhere", "/api/auth/password"]);
let fuzzed: DocView;
let witness: DocView;

beforeAll(async () => {
  owner = await ctx.anon.newUser("Fuzzer");
  fuzzed = await owner.api.createDoc("Fuzzed");
  witness = await owner.api.createDoc("Witness");
});

interface Answer {
  status: number;
  body: unknown;
}

async function send(method: string, url: string, init: { body?: string; contentType?: string; token?: string; headers?: Record<string, string> }): Promise<Answer> {
  const res = await fetch(`${ctx.system.gatewayUrl()}${url}`, {
    method,
    redirect: "manual",
    headers: {
      ...(init.contentType ? { "content-type": init.contentType } : {}),
      ...(init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined && method !== "GET" ? { body: init.body } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

/** Refusals of bad input: a 4xx with the error shape. A success is fine too (the input happened to be valid). */
function expectNoFailure(a: Answer, what: string): void {
  expect(a.status, `${what}: ${JSON.stringify(a.body).slice(0, 300)}`).toBeLessThan(500);
  if (a.status >= 400) {
    const err = (a.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    expect(typeof err?.code, `${what}: error shape ${JSON.stringify(a.body).slice(0, 300)}`).toBe("string");
    expect(typeof err?.message, `${what}: error shape`).toBe("string");
  }
}

/** Path segments: real ids of the fuzzer's document, ids of nothing, and junk (encoded, so it stays one segment). */
const segment = fc.oneof(
  fc.constantFrom("FUZZED", "WITNESS", "ME"),
  fc.uuid(),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom("0", "-1", "1e309", "9007199254740993", "NaN", "%00", "..", "%2e%2e", "x".repeat(2000), "%E0%A4%A", "null", "[]"),
  fc.integer().map(String),
);

const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom("title", "kind", "email", "role", "userId", "seq", "name", "size", "contentType", "refreshToken", "password", "purge", "token", "at", "from", "to"), fc.jsonValue({ maxDepth: 2 })),
  fc.constantFrom("{", "[1,", '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"x":1}}}', "\u0000", '{"title":"' + "a".repeat(100_000) + '"}'),
  fc.array(fc.constant("["), { maxLength: 3000 }).map((a) => a.join("")),
);

const queryString = fc.dictionary(
  fc.oneof(fc.constantFrom("after", "limit", "cursor", "purge", "at", "from", "to", "redirect", "download", "workspaceId", "status"), fc.string({ maxLength: 8 })),
  fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("-1", "0", "1e309", "true", "NaN", "9007199254740993", "x".repeat(5000))),
  { maxKeys: 4 },
);

const everyRoute = [...apiRoutes.map((r) => ({ method: r.method, url: r.url, auth: r.auth })), ...proxiedRoutes.map((r) => ({ method: r.method, url: r.url, auth: true }))];

describe("fuzzing the REST surface", () => {
  it("refusals Fastify raises itself (bad URL encoding, over-long ids, bad content type, JSON or length) come in the error shape", async () => {
    const token = owner.auth.accessToken;
    const cases: { what: string; answer: Answer; status: number; code: string }[] = [
      { what: "undecodable path", answer: await send("GET", "/api/docs/%E0%A4%A", { token }), status: 400, code: "VALIDATION_FAILED" },
      // Longer than the router's maxParamLength: it matches no route.
      { what: "over-long path id", answer: await send("GET", `/api/docs/${"x".repeat(2000)}`, { token }), status: 404, code: "NOT_FOUND" },
      { what: "unknown content type", answer: await send("POST", "/api/docs", { token, body: "title=x", contentType: "application/x-www-form-urlencoded" }), status: 415, code: "UNSUPPORTED_MEDIA_TYPE" },
      { what: "unparsable content type", answer: await send("POST", "/api/docs", { token, body: "{}", contentType: "application/json; charset" }), status: 400, code: "VALIDATION_FAILED" },
      { what: "broken JSON", answer: await send("POST", "/api/docs", { token, body: '{"title":', contentType: "application/json" }), status: 400, code: "MALFORMED_JSON" },
      { what: "body too large", answer: await send("POST", "/api/docs", { token, body: JSON.stringify({ title: "a".repeat(3 * 1024 * 1024) }), contentType: "application/json" }), status: 413, code: "PAYLOAD_TOO_LARGE" },
    ];
    for (const c of cases) {
      expect({ what: c.what, status: c.answer.status, code: (c.answer.body as { error?: { code?: string } } | null)?.error?.code }).toEqual({ what: c.what, status: c.status, code: c.code });
      expectNoFailure(c.answer, c.what);
    }
  });

  it("a validly signed token for an account that does not exist is not signed in: 401, not 404", async () => {
    const signer = await currentSigningKey(inject("storeEnv")["DATABASE_URL"]!, inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"]!);
    const sid = (JSON.parse(Buffer.from(owner.auth.accessToken.split(".")[1]!, "base64url").toString()) as { sid: string }).sid;
    const token = await mint(signer, { sub: crypto.randomUUID(), sid });
    const me = await send("GET", "/api/auth/me", { token });
    const password = await send("POST", "/api/auth/password", { token, contentType: "application/json", body: JSON.stringify({ currentPassword: "correct horse battery staple", newPassword: "another horse, battery and staple" }) });
    const codeOf = (a: Answer) => ({ status: a.status, code: (a.body as { error?: { code?: string } } | null)?.error?.code });
    expect({ me: codeOf(me), password: codeOf(password) }).toEqual({ me: { status: 401, code: "UNAUTHENTICATED" }, password: { status: 401, code: "UNAUTHENTICATED" } });
  });

  it("every route answers hostile ids, queries and bodies with a 4xx in the error shape, never a 5xx", { timeout: 600_000 }, async () => {
    let inputs = 0;
    const byStatus = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...everyRoute),
        fc.array(segment, { minLength: 3, maxLength: 3 }),
        queryString,
        fc.option(jsonBody, { freq: 4 }),
        fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", undefined),
        async (route, segs, query, body, contentType) => {
          let i = 0;
          const real = (s: string) => (s === "FUZZED" ? fuzzed.id : s === "WITNESS" ? witness.id : s === "ME" ? owner.auth.user.id : s);
          // The witness document is only ever read: it must come out of the fuzz as it went in.
          const path = route.url.replace(/:([A-Za-z]+)/g, () => {
            const s = real(segs[i++ % segs.length]!);
            return s === witness.id && route.method !== "GET" ? fuzzed.id : s;
          });
          const qs = new URLSearchParams(query).toString();
          const url = `${path}${qs ? `?${qs}` : ""}`;
          // Signing out (everywhere) or changing the password would end the owner's sessions: a fresh account takes those.
          const token = SPENDS_SESSION.has(route.url) ? (await ctx.anon.newUser("Throwaway")).auth.accessToken : owner.auth.accessToken;
          const a = await send(route.method, url, {
            ...(body === null ? {} : { body: typeof body === "string" && !body.startsWith('"') ? body : JSON.stringify(body) }),
            ...(contentType && body !== null ? { contentType } : {}),
            token,
          });
          inputs++;
          byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
          expectNoFailure(a, `${route.method} ${url.slice(0, 200)}`);
        },
      ),
      { numRuns: runs(800), seed: SEED },
    );
    process.stdout.write(`fuzz rest routes: ${inputs} inputs over ${everyRoute.length} routes, 0 server errors; statuses ${JSON.stringify(Object.fromEntries(byStatus))}\n`);
  });

  it("malformed, unsigned, foreign, tampered and expired tokens are refused with 401 on REST and 4401 on /collab", { timeout: 180_000 }, async () => {
    const signer = await currentSigningKey(inject("storeEnv")["DATABASE_URL"]!, inject("storeEnv")["SIGNING_KEY_ENCRYPTION_KEY"]!);
    const foreign = await foreignSigner();
    const sub = owner.auth.user.id;
    const sid = (JSON.parse(Buffer.from(owner.auth.accessToken.split(".")[1]!, "base64url").toString()) as { sid: string }).sid;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const [h, p, sig] = owner.auth.accessToken.split(".") as [string, string, string];
    const hostileToken = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 5 }).map((parts) => parts.join(".")),
      fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })).map((claims) => unsignedToken({ sub, sid, ...claims })),
      fc.record({ alg: fc.constantFrom("none", "HS256", "RS256", "EdDSA", "ES256", ""), kid: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(signer.kid)) }).map((hdr) => `${b64({ ...hdr, typ: "JWT" })}.${p}.${sig}`),
      fc.dictionary(fc.constantFrom("sub", "sid", "exp", "nbf", "iss", "aud", "iat"), fc.jsonValue({ maxDepth: 1 }), { minKeys: 1 }).map((change) => tamper(owner.auth.accessToken, change)),
      fc.constantFrom(`${h}.${p}.`, `${h}.${p}`, `${h}..${sig}`, `.${p}.${sig}`, `${h}.${p}.${sig}x`, `${h}.${p}.${sig.slice(1)}`),
    );
    let inputs = 0;
    await fc.assert(
      fc.asyncProperty(hostileToken, fc.constantFrom("/api/auth/me", `/api/docs/${witness.id}`, "/api/docs"), async (token, url) => {
        inputs++;
        // Header values must be visible ASCII; anything else is a client-side error, not an input the server sees.
        if (!/^[\x21-\x7e]*$/.test(token)) return;
        // The header generator can rebuild the genuine header byte for byte: that is the valid token itself.
        if (token === owner.auth.accessToken) return;
        const a = await send("GET", url, { token });
        expect(a.status, `${token.slice(0, 80)} → ${JSON.stringify(a.body)}`).toBe(401);
        expectNoFailure(a, url);
      }),
      { numRuns: runs(300), seed: SEED },
    );
    // Tokens signed by a key the server does not know, for the wrong issuer or audience, or expired.
    const minted = [
      await mint(foreign, { sub, sid }),
      await mint({ ...foreign, kid: signer.kid }, { sub, sid }),
      await mint(signer, { sub, sid, exp: -60 }),
      await mint(signer, { sub, sid, nbf: 600 }),
      await mint(signer, { sub, sid, iss: "someone-else" }),
      await mint(signer, { sub, sid, aud: "someone-else" }),
    ];
    // Genuinely signed, for an account that does not exist: /collab checks the document's members,
    // not the accounts table, so it refuses this one as no member (4403), REST's auth as no account (401).
    const noAccount = await mint(signer, { sub: crypto.randomUUID(), sid });
    minted.push(noAccount);
    // Not here: a genuine signature over a session id that never existed. Access tokens are
    // stateless until revoked (RevocationList holds revocations, not sessions), and only the
    // signing key makes one; with it, a real session id would do as well.
    for (const [i, token] of minted.entries()) {
      const a = await send("GET", "/api/auth/me", { token });
      expect(a.status, `minted[${i}]: ${JSON.stringify(a.body)}`).toBe(401);
      expectNoFailure(a, "minted");
      inputs++;
    }
    // The same tokens on /collab: refused before any document data is sent.
    const wsUrl = ctx.system.gatewayUrl().replace(/^http/, "ws");
    for (const token of [...minted, unsignedToken({ sub, sid }), tamper(owner.auth.accessToken, { sub: crypto.randomUUID() }), "", "x.y.z"]) {
      const s = rawConnect(`${wsUrl}/collab/${witness.id}?token=${encodeURIComponent(token)}`);
      const closed = await s.closed;
      expect(token === noAccount ? [4403] : [4401, 1006], `collab with ${token.slice(0, 40)}: ${closed.code}`).toContain(closed.code);
      expect(s.messages.every((m) => m[0] === 2)).toBe(true);
      inputs++;
    }
    process.stdout.write(`fuzz tokens: ${inputs} inputs, 0 accepted, 0 server errors\n`);
  });

  it("upload headers (content type, boundary, file name, length) and presign bodies are refused or accepted, never a 5xx", { timeout: 180_000 }, async () => {
    const gateway = new URL(ctx.system.gatewayUrl());
    const raw = (headers: Record<string, string>, body: Buffer) =>
      new Promise<Answer | "no answer">((resolve) => {
        const req = http.request(
          { host: gateway.hostname, port: gateway.port, method: "POST", path: `/api/docs/${fuzzed.id}/files`, headers: { authorization: `Bearer ${owner.auth.accessToken}`, ...headers }, timeout: 10_000 },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString();
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // not JSON
              }
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
          },
        );
        // A refusal may arrive while the body is still being written; the server may then close.
        req.on("error", () => resolve("no answer"));
        req.on("timeout", () => req.destroy());
        req.end(body);
      });
    const boundary = fc.oneof(fc.constant("XyZ"), fc.string({ maxLength: 80 }).filter((s) => /^[\x21-\x7e]*$/.test(s)));
    const upload = fc.record({
      contentType: fc.oneof(
        boundary.map((b) => `multipart/form-data; boundary=${b}`),
        fc.constantFrom("multipart/form-data", "multipart/mixed; boundary=XyZ", "application/json", "image/png", "", "text/plain", "multipart/form-data; boundary="),
      ),
      filename: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom("../../etc/passwd", "a\r\nX-Injected: 1", "x".repeat(5000), "", "\u0000.png", "‮gnp.exe")),
      partType: fc.oneof(fc.constantFrom("image/png", "text/html", "application/octet-stream", "image/svg+xml", ""), fc.string({ maxLength: 30 })),
      data: fc.uint8Array({ maxLength: 512 }),
      lengthDelta: fc.oneof(fc.constant(0), fc.integer({ min: -200, max: -1 })),
      json: jsonBody,
    });
    let inputs = 0;
    let unanswered = 0;
    await fc.assert(
      fc.asyncProperty(upload, async (u) => {
        inputs++;
        let body: Buffer;
        if (u.contentType === "application/json") body = Buffer.from(typeof u.json === "string" ? u.json : JSON.stringify(u.json));
        else {
          const b = /boundary=(.*)$/.exec(u.contentType)?.[1] ?? "XyZ";
          body = Buffer.concat([
            Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="${u.filename}"\r\nContent-Type: ${u.partType}\r\n\r\n`, "latin1"),
            Buffer.from(u.data),
            Buffer.from(`\r\n--${b}--\r\n`),
          ]);
        }
        const headers: Record<string, string> = { "content-length": String(Math.max(0, body.length + u.lengthDelta)) };
        if (u.contentType) headers["content-type"] = u.contentType;
        const a = await raw(headers, body.subarray(0, Math.max(0, body.length + u.lengthDelta)));
        if (a === "no answer") {
          unanswered++;
          return;
        }
        expectNoFailure(a, `upload ${u.contentType}`);
      }),
      { numRuns: runs(300), seed: SEED },
    );
    process.stdout.write(`fuzz upload headers: ${inputs} inputs, 0 server errors, ${unanswered} connections closed without an answer\n`);
  });

  it("after the fuzz: every service is alive, the witness document opens and converges, and its stored edits replay", { timeout: 60_000 }, async () => {
    for (const s of ctx.system.services) {
      expect(s.process.running, `${s.name}-${s.instance} exited`).toBe(true);
      expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status, s.name).toBe(200);
    }
    const w = await owner.api.get<DocView>(`/api/docs/${witness.id}`);
    expect(w.status).toBe(200);
    expect(w.body.title).toBe("Witness");
    expect([200, 404]).toContain((await owner.api.get(`/api/docs/${fuzzed.id}`)).status);
    const a = ctx.client(witness.id, owner.auth.accessToken);
    const b = ctx.client(witness.id, owner.auth.accessToken);
    await vi.waitFor(() => expect(a.provider.synced && b.provider.synced).toBe(true), { timeout: 20_000 });
    a.doc.getText("t").insert(0, "after the fuzz");
    await vi.waitFor(() => expect(b.text()).toBe("after the fuzz"), { timeout: 20_000 });
    const replay = new Y.Doc();
    await vi.waitFor(async () => expect((await storedUpdates(ctx.nc, ctx.jsm, witness.id)).length).toBeGreaterThan(0));
    for (const u of await storedUpdates(ctx.nc, ctx.jsm, witness.id)) Y.applyUpdate(replay, u);
    expect(replay.getText("t").toString()).toBe("after the fuzz");
  });
});
