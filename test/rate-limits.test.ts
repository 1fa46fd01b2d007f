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
      const res = await gws[i % 2]!.post<ErrorBody>("/api/auth/login", { email: "nobody@example.test", password: "wrong password" });
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
