// RPCs go out as plain publishes with their replies gathered on the connection's reply inbox:
// every outcome must read as it did through nats.js's request.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsOptionsFromEnv } from "@palimpsest/devkit";
import { callRpc, callRpcOk, createLogger, serveRpc } from "../src/index.ts";

let nc: NatsConnection;
const prefix = `rpc-inbox-test.${randomUUID().slice(0, 8)}`;
const request = (input: unknown) => ({ requestId: randomUUID(), input });

beforeAll(async () => {
  nc = await connect({ ...natsOptionsFromEnv(inject("storeEnv")), name: "rpc-inbox-test" });
  serveRpc(
    nc,
    "rpc-inbox-test",
    {
      [`${prefix}.echo`]: async (input) => ({ body: { echoed: input } }),
      [`${prefix}.huge`]: async () => ({ body: "x".repeat(9 * 1024 * 1024) }),
      [`${prefix}.slow`]: async (input) => {
        await new Promise((r) => setTimeout(r, Number(input)));
        return { body: "late" };
      },
    },
    { log: createLogger("docs", "silent", "test"), verifier: { verify: async () => Promise.reject(new Error("no tokens here")) } },
  );
  await nc.flush();
});
afterAll(async () => {
  await nc?.close();
});

describe("RPCs through the reply inbox", () => {
  it("given many calls in flight at once, then each gets its own reply", async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => callRpcOk<{ echoed: number }>(nc, `${prefix}.echo`, request(i))));
    expect(replies.map((r) => r.echoed)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it("given a subject nobody serves, then the call fails as UNAVAILABLE at once, not at its deadline", async () => {
    const started = performance.now();
    await expect(callRpc(nc, `${prefix}.nobody`, request(null), 5_000)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("given an answer larger than a NATS message, then the caller hears an error at once instead of waiting out its deadline", async () => {
    const started = performance.now();
    await expect(callRpcOk(nc, `${prefix}.huge`, request(null), 20_000)).rejects.toMatchObject({ code: "INTERNAL" });
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("given a service slower than the caller's deadline, then the call fails as TIMEOUT near its deadline, and a later reply changes nothing", async () => {
    const started = performance.now();
    await expect(callRpc(nc, `${prefix}.slow`, request(1_500), 300)).rejects.toMatchObject({ code: "TIMEOUT" });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(1_000);
    // The late reply arrives to nobody; the next call is answered as usual.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await callRpcOk(nc, `${prefix}.echo`, request("after"))).toEqual({ echoed: "after" });
  });
});
