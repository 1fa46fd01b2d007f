import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { connect } from "@nats-io/transport-node";
import { rpc } from "@palimpsest/contracts";
import { TestApi, natsOptionsFromEnv, type RunningSystem } from "@palimpsest/devkit";
import { startTestSystem } from "./system.ts";
import { apiRoutes, proxiedRoutes } from "../services/gateway/src/routes.ts";

let system: RunningSystem;
beforeAll(async () => {
  system = await startTestSystem("ops", { env: { CORS_ORIGINS: "https://app.example.test" } });
});
afterAll(async () => {
  await system?.stop();
});

describe("operations endpoints", () => {
  it("the gateway is ready once every service is ready and it knows a sync and a files replica", async () => {
    const res = await new TestApi(system.gatewayUrl()).get<{ ready: boolean; checks: Record<string, boolean> }>("/readyz");
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ nats: true, redis: true, auth: true, docs: true, sync: true, files: true, history: true, syncReplicas: true, filesReplicas: true });
  });

  it("given a replica of a service that says it is not ready (stopping, say), when another replica is ready, then the gateway stays ready", async () => {
    // Answers at once on the bus, as a history replica in its shutdown would; the real one answers yes.
    const nc = await connect(natsOptionsFromEnv(inject("storeEnv")));
    const stopping = nc.subscribe(rpc.ready("history"), {
      callback: (_err, msg) => void msg.respond(JSON.stringify({ service: "history", ready: false, checks: { postgres: false } })),
    });
    try {
      await nc.flush();
      for (let i = 0; i < 5; i++) {
        const res = await new TestApi(system.gatewayUrl()).get<{ checks: Record<string, boolean> }>("/readyz");
        expect(res.body.checks["history"]).toBe(true);
        expect(res.status).toBe(200);
      }
    } finally {
      stopping.unsubscribe();
      await nc.close();
    }
  });

  it("every service answers /healthz, /readyz and Prometheus /metrics", async () => {
    expect(system.services.map((s) => s.name).sort()).toEqual(["auth", "docs", "files", "gateway", "history", "sync"]);
    for (const s of system.services) {
      const base = `http://127.0.0.1:${s.port}`;
      expect((await fetch(`${base}/healthz`)).status, s.name).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status, s.name).toBe(200);
      expect(((await ready.json()) as { service: string }).service).toBe(s.name);
      const metrics = await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`);
      expect(metrics.headers.get("content-type")).toMatch(/text\/plain/);
      const text = await metrics.text();
      expect(text).toContain(`process_resident_memory_bytes{service="${s.name}"}`);
      expect(text).toContain("http_request_duration_seconds");
    }
  });

  it("allows cross-origin calls only from configured origins, and sets security headers", async () => {
    const allowed = await fetch(`${system.gatewayUrl()}/api/docs`, { headers: { origin: "https://app.example.test" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    const other = await fetch(`${system.gatewayUrl()}/api/docs`, { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${system.gatewayUrl()}/api/docs`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.test", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(other.headers.get("x-content-type-options")).toBe("nosniff");
    expect(other.headers.get("x-frame-options")).toBe("DENY");
  });

  it("carries a request id through and echoes it", async () => {
    const res = await fetch(`${system.gatewayUrl()}/api/docs`, { headers: { "x-request-id": "trace-me-123" } });
    expect(res.headers.get("x-request-id")).toBe("trace-me-123");
    const generated = await fetch(`${system.gatewayUrl()}/api/docs`);
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers unknown routes and oversized bodies with the one error format", async () => {
    const api = new TestApi(system.gatewayUrl());
    const missing = await api.get<{ error: { code: string } }>("/api/nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
    // Refused from its declared length while the body is still on its way: the connection takes
    // the rest and throws it away, so an ordinary client that sends its whole body reads the answer.
    const res = await fetch(`${system.gatewayUrl()}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "a@b.c", password: "x".repeat(2 * 1024 * 1024) }),
    });
    const big = { status: res.status, body: (await res.json()) as { error: { code: string } } };
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("publishes an OpenAPI document that matches its routes, and the token keys", async () => {
    const api = new TestApi(system.gatewayUrl());
    const doc = await api.get<{ openapi: string; paths: Record<string, Record<string, unknown>> }>("/api/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.body.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const served = [...apiRoutes, ...proxiedRoutes].map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, "{$1}")}`).sort();
    expect(documented).toEqual(served);
    // Every documented route answers (with an auth error at worst), none is a 404 of the router.
    for (const r of [...apiRoutes, ...proxiedRoutes]) {
      const url = r.url.replace(/:([A-Za-z]+)/g, "abc");
      const res = await api.call<{ error?: { code: string } }>(r.method, url, r.method === "GET" || r.method === "DELETE" ? undefined : {});
      expect(res.body.error?.code, `${r.method} ${r.url}`).not.toBe("NOT_FOUND");
    }
    const jwks = await api.get<{ keys: { kid: string; alg: string; d?: string }[] }>("/.well-known/jwks.json");
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    expect(jwks.body.keys[0]).toMatchObject({ alg: "EdDSA", kty: "OKP", crv: "Ed25519" });
    expect(jwks.body.keys.some((k) => k.d !== undefined)).toBe(false);
  });
});

describe("the web app", () => {
  it("is served with the right caching, client routes load the app, missing files are 404s", async () => {
    const base = system.gatewayUrl();
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${base}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(js.headers.get("cache-control")).toContain("immutable");
    const route = await fetch(`${base}/d/some-document`);
    expect(route.status).toBe(200);
    expect(await route.text()).toBe(html);
    expect((await fetch(`${base}/d/some-document`, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(`${base}/assets/gone-1234.js`)).status).toBe(404);
  });
});
