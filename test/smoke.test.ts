import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestApi, type RunningSystem } from "@palimpsest/platform/testing";
import { startTestSystem } from "./system.ts";

let system: RunningSystem;
beforeAll(async () => {
  system = await startTestSystem("smoke");
});
afterAll(async () => {
  await system?.stop();
});

describe("system", () => {
  it("reports ready once every service is ready", async () => {
    const res = await new TestApi(system.gatewayUrl()).get<{ ready: boolean; checks: Record<string, boolean> }>("/readyz");
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ nats: true, auth: true, docs: true, sync: true, files: true, history: true });
  });
});
