import { afterAll, beforeAll, describe, expect, it, vi, inject } from "vitest";
import { Redis } from "ioredis";
import { TestApi, type RunningSystem } from "@palimpsest/devkit";
import type { ErrorBody } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { rawConnect } from "./collab-client.ts";

let system: RunningSystem;
let redis: Redis;
const WINDOW = 2;

beforeAll(async () => {
  system = await startTestSystem("rate-limits", {
    gateways: 2,
    env: {
      RATE_LIMIT_WINDOW_SECONDS: String(WINDOW),
      RATE_LIMIT_AUTH_PER_WINDOW: "6",
      RATE_LIMIT_USER_PER_WINDOW: "8",
      RATE_LIMIT_COLLAB_CONNECTS_PER_WINDOW: "3",
      // One proxy in front (an ingress): only the address it appends to X-Forwarded-For is believed.
      TRUST_PROXY: "1",
      LOGIN_FAILURES_PER_ADDRESS: "3",
      LOGIN_FAILURES_PER_ACCOUNT: "8",
      LOGIN_LOCKOUT_SECONDS: "2",
    },
  });
  redis = new Redis(inject("storeEnv")["REDIS_URL"]!);
});
afterAll(async () => {
  redis?.disconnect();
  await system?.stop();
});

/** Every window starts from zero for the address the tests come from. */
async function freshWindow(): Promise<void> {
  const keys = await redis.keys("ratelimit:*");
  if (keys.length) await redis.del(...keys);
}

describe("rate limits shared by every gateway replica", () => {
  it("limits sign-in attempts per address across both gateways, then recovers after the window", async () => {
    await freshWindow();
    const gws = [new TestApi(system.gatewayUrl(0)), new TestApi(system.gatewayUrl(1))];
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      // A new account each time: this is the per-address limit, not the per-account lockout.
      const res = await gws[i % 2]!.post<ErrorBody>("/api/auth/login", { email: `nobody-${i}@example.test`, password: "wrong password" });
      statuses.push(res.status);
      if (i === 0) {
        expect(res.headers.get("ratelimit-limit")).toBe("6");
        expect(res.headers.get("ratelimit-remaining")).toBe("5");
        expect(res.headers.get("ratelimit-policy")).toBe(`6;w=${WINDOW}`);
      }
      if (res.status === 429) {
        expect(res.body.error.code).toBe("RATE_LIMITED");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(WINDOW);
        expect(res.headers.get("ratelimit-remaining")).toBe("0");
      }
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
    await vi.waitFor(
      async () => expect((await gws[1]!.post("/api/auth/login", { email: "nobody@example.test", password: "wrong password" })).status).toBe(401),
      { timeout: (WINDOW + 2) * 1000, interval: 500 },
    );
  });

  it("believes only the address the proxy in front appends, so a forged X-Forwarded-For does not escape the sign-in limit", async () => {
    await freshWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      // The client writes any address it likes; the ingress appends the one it saw (here always the same).
      const res = await fetch(`${system.gatewayUrl(i % 2)}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": `203.0.113.${i + 1}, 198.51.100.7` },
        body: JSON.stringify({ email: `forger-${i}@example.test`, password: "wrong password" }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
    // Another client behind the same proxy has its own budget.
    const other = await fetch(`${system.gatewayUrl(0)}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "198.51.100.8" },
      body: JSON.stringify({ email: "forger-other@example.test", password: "wrong password" }),
    });
    expect(other.status).toBe(401);
  });

  it("locks an account after failed sign-ins: first for the guessing address, growing; for every address only briefly", async () => {
    await freshWindow();
    const { auth } = await new TestApi(system.gatewayUrl(0)).newUser("Victim");
    const email = auth.user.email;
    const password = "correct horse battery staple";
    const signIn = (from: string, pw: string, gw = 0) =>
      fetch(`${system.gatewayUrl(gw)}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": from },
        body: JSON.stringify({ email, password: pw }),
      });
    const attempt = async (from: string, pw: string, gw = 0) => {
      const res = await signIn(from, pw, gw);
      return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as ErrorBody };
    };
    expect((await attempt("198.51.100.20", password)).status).toBe(200);

    // Three wrong guesses from one address (over both gateways): then even the right password is refused there, unchecked.
    for (let i = 0; i < 3; i++) expect((await attempt("198.51.100.21", "guess", i % 2)).status).toBe(401);
    const locked = await attempt("198.51.100.21", password, 1);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe("RATE_LIMITED");
    expect(Number(locked.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(locked.retryAfter)).toBeLessThanOrEqual(2);
    // The owner, from elsewhere, is not locked out by someone else's guesses.
    expect((await attempt("198.51.100.22", password)).status).toBe(200);
    // The lock ends; a second one for the same address lasts twice as long.
    await vi.waitFor(async () => expect((await attempt("198.51.100.21", "guess")).status).toBe(401), { timeout: 10_000, interval: 250 });
    for (let i = 0; i < 2; i++) expect((await attempt("198.51.100.21", "guess")).status).toBe(401);
    const again = await attempt("198.51.100.21", password);
    expect(again.status).toBe(429);
    expect(Number(again.retryAfter)).toBeGreaterThan(2);
    expect(Number(again.retryAfter)).toBeLessThanOrEqual(4);

    // Guesses spread over many addresses lock the account for everyone, briefly.
    // Six failures so far; two more from new addresses make the eight that lock the account for every address.
    for (const from of ["198.51.100.31", "198.51.100.32"]) expect((await attempt(from, "guess")).status).toBe(401);
    const everyone = await attempt("198.51.100.40", password);
    expect(everyone.status).toBe(429);
    expect(Number(everyone.retryAfter)).toBeLessThanOrEqual(2);
    await vi.waitFor(async () => expect((await attempt("198.51.100.40", password)).status).toBe(200), { timeout: 10_000, interval: 250 });
  });

  it("serves the gateway's metrics on its metrics port only, not on the public one", async () => {
    for (const gw of system.byName("gateway")) {
      const pub = await fetch(`http://127.0.0.1:${gw.port}/metrics`);
      const text = await pub.text();
      expect(text).not.toContain("process_resident_memory_bytes");
      expect(text).not.toContain("http_request_duration_seconds");
      const own = await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain(`process_resident_memory_bytes{service="gateway"}`);
      expect(gw.metricsPort).not.toBe(gw.port);
    }
  });

  it("limits each signed-in user on its own, across both gateways", async () => {
    await freshWindow();
    const anon = new TestApi(system.gatewayUrl(0));
    const a = await anon.newUser("A");
    const b = await anon.newUser("B");
    const onGateway = (i: number, token: string) => new TestApi(system.gatewayUrl(i % 2), token);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await onGateway(i, a.auth.accessToken).get("/api/docs")).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    expect((await onGateway(1, b.auth.accessToken).get("/api/docs")).status).toBe(200);
  });

  it("limits how many /collab connections a user opens, with a close code the client does not retry", async () => {
    await freshWindow();
    const { api, auth } = await new TestApi(system.gatewayUrl(0)).newUser();
    const doc = await api.createDoc("Busy");
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const s = rawConnect(`${system.gatewayUrl(i % 2).replace(/^http/, "ws")}/collab/${doc.id}?token=${auth.accessToken}`);
      await vi.waitFor(() => expect(s.messages.length > 0 || s.socket.readyState === s.socket.CLOSED).toBe(true));
      if (s.socket.readyState === s.socket.CLOSED) codes.push((await s.closed).code);
      else {
        codes.push(0);
        s.socket.close();
      }
    }
    expect(codes).toEqual([0, 0, 0, 4429]);
  });
});
