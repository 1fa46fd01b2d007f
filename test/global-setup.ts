import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startStores, type StoreSet } from "@palimpsest/devkit";
import { ensureWebBuilt } from "../scripts/web-build.ts";

declare module "vitest" {
  export interface ProvidedContext {
    storeEnv: Record<string, string>;
    dataDir: string;
  }
}

let stores: StoreSet | undefined;
let dataDir: string | undefined;

/** Real NATS (JetStream), PostgreSQL, Redis and S3, once per test run, on free ports in a throw-away folder. */
export async function setup(project: TestProject): Promise<void> {
  // The gateways under test serve the production web build.
  ensureWebBuilt();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-test-"));
  // NATS_CLUSTER_SIZE=3 (and NATS_SERVER_BIN) run the whole suite on a local JetStream cluster.
  const size = Number(process.env["NATS_CLUSTER_SIZE"] ?? "1");
  const binary = process.env["NATS_SERVER_BIN"];
  stores = await startStores({ dataDir, durable: false, natsClusterSize: size, ...(binary ? { natsServerBinary: binary } : {}) });
  project.provide("storeEnv", stores.env);
  project.provide("dataDir", dataDir);
}

export async function teardown(): Promise<void> {
  await stores?.stop();
  if (dataDir && !process.env["KEEP_TEST_DATA"]) fs.rmSync(dataDir, { recursive: true, force: true });
}
