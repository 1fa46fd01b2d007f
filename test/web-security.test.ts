// What the gateway tells browsers: a strict Content-Security-Policy, HSTS over TLS, and the
// refresh token as an HttpOnly cookie that only our own pages can spend.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningSystem } from "@palimpsest/devkit";
import type { AuthResult } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";

let system: RunningSystem;
beforeAll(async () => {
  system = await startTestSystem("web-security", { env: { TRUST_PROXY: "true", IMAGE_HOSTS: "https://images.example.test" } });
});
afterAll(async () => {
  await system?.stop();
});

const PASSWORD = "a long enough passphrase";
const url = (path: string) => `${system.gatewayUrl()}${path}`;
const json = { "content-type": "application/json" };
const cookieMode = { ...json, "x-session-transport": "cookie" };

function directives(policy: string | null): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of (policy ?? "").split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) map.set(name, sources);
  }
  return map;
}

/** The refresh cookie a response set: its value and attributes (lower-cased names). */
function refreshCookie(res: Response): { value: string; attributes: Map<string, string> } | undefined {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(";").map((s) => s.trim());
    const eq = pair!.indexOf("=");
    if (pair!.slice(0, eq) !== "palimpsest_refresh") continue;
    const attributes = new Map(attrs.map((a) => {
      const i = a.indexOf("=");
      return i < 0 ? [a.toLowerCase(), ""] as const : [a.slice(0, i).toLowerCase(), a.slice(i + 1)] as const;
    }));
    return { value: pair!.slice(eq + 1), attributes };
  }
  return undefined;
}

async function register(headers: Record<string, string> = json): Promise<Response> {
  const email = `cookie-${randomUUID()}@example.test`;
  return fetch(url("/api/auth/register"), { method: "POST", headers, body: JSON.stringify({ email, password: PASSWORD, name: "Cookie" }) });
}

const refreshWithCookie = (cookie: string, extra: Record<string, string> = {}) =>
  fetch(url("/api/auth/refresh"), { method: "POST", headers: { ...json, cookie: `palimpsest_refresh=${cookie}`, ...extra }, body: "{}" });

describe("browser policy headers", () => {
  it("given the app page or an API answer, when it is fetched, then a strict Content-Security-Policy comes with it", async () => {
    // Browsers upload to and download from the object store's presigned URLs: its origin only.
    const store = new URL(inject("storeEnv")["S3_ENDPOINT"]!).origin;
    for (const path of ["/", "/api/openapi.json"]) {
      const res = await fetch(url(path));
      const csp = directives(res.headers.get("content-security-policy"));
      expect(csp.get("default-src"), path).toEqual(["'self'"]);
      expect(csp.get("script-src"), path).toEqual(["'self'"]);
      expect(csp.get("style-src"), path).toEqual(["'self'"]);
      expect(csp.get("connect-src"), path).toEqual(["'self'", store]);
      expect(csp.get("object-src"), path).toEqual(["'none'"]);
      expect(csp.get("base-uri"), path).toEqual(["'none'"]);
      expect(csp.get("frame-ancestors"), path).toEqual(["'none'"]);
      expect(csp.get("img-src"), path).toEqual(["'self'", "blob:", "data:", store, "https://images.example.test"]);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    }
  });

  it("given a request that reached the trusted proxy over TLS, when it is answered, then HSTS is sent; over plain http it is not", async () => {
    const tls = await fetch(url("/api/openapi.json"), { headers: { "x-forwarded-proto": "https" } });
    expect(tls.headers.get("strict-transport-security")).toBe("max-age=15552000; includeSubDomains");
    const plain = await fetch(url("/api/openapi.json"));
    expect(plain.headers.get("strict-transport-security")).toBeNull();
  });
});

describe("the refresh token as a cookie", () => {
  it("given an API client, when it signs up and refreshes with the token in the body, then the public contract holds and no cookie is set", async () => {
    const res = await register();
    expect(res.status).toBe(201);
    const auth = (await res.json()) as AuthResult;
    expect(auth.refreshToken).toEqual(expect.any(String));
    expect(refreshCookie(res)).toBeUndefined();
    const refreshed = await fetch(url("/api/auth/refresh"), { method: "POST", headers: json, body: JSON.stringify({ refreshToken: auth.refreshToken }) });
    expect(refreshed.status).toBe(200);
    expect(((await refreshed.json()) as AuthResult).refreshToken).toEqual(expect.any(String));
  });

  it("given a browser asking for cookie transport, when it signs up, then the token is an HttpOnly SameSite=Strict cookie on /api/auth and not in the body", async () => {
    const res = await register(cookieMode);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Partial<AuthResult>;
    expect(body.accessToken).toEqual(expect.any(String));
    expect(body).not.toHaveProperty("refreshToken");
    const cookie = refreshCookie(res);
    expect(cookie?.value.length).toBeGreaterThan(16);
    expect(cookie?.attributes.has("httponly")).toBe(true);
    expect(cookie?.attributes.get("samesite")?.toLowerCase()).toBe("strict");
    expect(cookie?.attributes.get("path")).toBe("/api/auth");
    // The gateway listens on loopback, which browsers treat as a secure context.
    expect(cookie?.attributes.has("secure")).toBe(true);
  });

  it("given the cookie, when a refresh carries X-CSRF from our own origin, then it rotates into a new cookie and the old one stops working", async () => {
    const first = refreshCookie(await register(cookieMode))!.value;
    const res = await refreshWithCookie(first, { "x-csrf": "1", origin: system.gatewayUrl(), "sec-fetch-site": "same-origin" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Partial<AuthResult>;
    expect(body.accessToken).toEqual(expect.any(String));
    expect(body).not.toHaveProperty("refreshToken");
    const second = refreshCookie(res)!.value;
    expect(second).not.toBe(first);

    const reused = await refreshWithCookie(first, { "x-csrf": "1" });
    expect(reused.status).toBe(401);
    // A refused cookie is removed, so the browser stops sending it.
    expect(refreshCookie(reused)?.attributes.get("max-age")).toBe("0");
  });

  it("given the cookie, when a refresh comes without X-CSRF or from another site, then it is refused and the session survives", async () => {
    const token = refreshCookie(await register(cookieMode))!.value;
    const forged: Record<string, string>[] = [
      {},
      { "x-csrf": "1", origin: "https://evil.example.test" },
      { "x-csrf": "1", "sec-fetch-site": "cross-site" },
    ];
    for (const headers of forged) {
      const res = await refreshWithCookie(token, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("CSRF_REJECTED");
    }
    expect((await refreshWithCookie(token, { "x-csrf": "1" })).status).toBe(200);
  });

  it("given a refresh token from before cookies, when the browser exchanges it asking for cookie transport, then it moves into the cookie", async () => {
    const auth = (await (await register()).json()) as AuthResult;
    const res = await fetch(url("/api/auth/refresh"), { method: "POST", headers: cookieMode, body: JSON.stringify({ refreshToken: auth.refreshToken }) });
    expect(res.status).toBe(200);
    expect(await res.json()).not.toHaveProperty("refreshToken");
    expect((await refreshWithCookie(refreshCookie(res)!.value, { "x-csrf": "1" })).status).toBe(200);
  });

  it("given a cookie session, when it signs out, then the cookie is cleared and can no longer refresh", async () => {
    const res = await register(cookieMode);
    const { accessToken } = (await res.json()) as AuthResult;
    const token = refreshCookie(res)!.value;
    const out = await fetch(url("/api/auth/logout"), {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${accessToken}`, cookie: `palimpsest_refresh=${token}` },
      body: "{}",
    });
    expect(out.status).toBe(204);
    expect(refreshCookie(out)?.attributes.get("max-age")).toBe("0");
    expect((await refreshWithCookie(token, { "x-csrf": "1" })).status).toBe(401);
  });
});
