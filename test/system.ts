import path from "node:path";
import fs from "node:fs";
import { afterAll, afterEach, beforeAll, inject } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { TestApi, startSystem, type RunningSystem, type SystemOptions, natsOptionsFromEnv } from "@palimpsest/devkit";
import { connectClient, type CollabClient } from "./collab-client.ts";

/**
 * Tests register many users from one address, so the limits are lifted unless a test sets them;
 * signing keys are re-read often so a rotation is seen within a test.
 */
export const testDefaults = {
  RATE_LIMIT_AUTH_PER_WINDOW: "100000",
  RATE_LIMIT_USER_PER_WINDOW: "100000",
  RATE_LIMIT_COLLAB_CONNECTS_PER_WINDOW: "100000",
  SIGNING_KEY_CACHE_MS: "200",
  // Receivers in tests listen on 127.0.0.1; every other private address stays refused.
  WEBHOOK_ALLOW_PRIVATE_TARGETS: "loopback",
};

/** Starts the services for one test file against the run's stores; logs go under the run's data folder. */
export async function startTestSystem(name: string, opts: Omit<SystemOptions, "storeEnv" | "logDir"> = {}): Promise<RunningSystem> {
  const logDir = path.join(inject("dataDir"), "logs", name);
  fs.mkdirSync(logDir, { recursive: true });
  return startSystem({ ...opts, env: { ...testDefaults, ...opts.env }, storeEnv: inject("storeEnv"), logDir });
}

export interface SystemContext {
  readonly system: RunningSystem;
  readonly anon: TestApi;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** A y-websocket client through gateway `gateway`, destroyed after each test. */
  client(docId: string, token: string, gateway?: number): CollabClient;
}

/**
 * Starts the services once for a test file, with a NATS connection for looking into the streams,
 * and tracks the live clients a test opens so they are closed after it.
 */
export function useSystem(name: string, opts: Omit<SystemOptions, "storeEnv" | "logDir"> = {}): SystemContext {
  let system: RunningSystem | undefined;
  let anon: TestApi | undefined;
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  const clients: CollabClient[] = [];
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("the system is not started yet (use it inside tests)");
    return v;
  };
  beforeAll(async () => {
    system = await startTestSystem(name, opts);
    anon = new TestApi(system.gatewayUrl());
    nc = await connect(natsOptionsFromEnv(inject("storeEnv")));
    jsm = await jetstreamManager(nc);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  afterAll(async () => {
    await nc?.close();
    await system?.stop();
  });
  return {
    get system() {
      return need(system);
    },
    get anon() {
      return need(anon);
    },
    get nc() {
      return need(nc);
    },
    get jsm() {
      return need(jsm);
    },
    client(docId, token, gateway = 0) {
      const c = connectClient(need(system).gatewayUrl(gateway), docId, token);
      clients.push(c);
      return c;
    },
  };
}
