// A service's start must ride through a bus that does not answer for a moment (a JetStream
// cluster electing leaders, a node rejoining), not exit with the first request's timeout.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Streams } from "@palimpsest/contracts";
import { startNatsServer, type NatsCluster } from "@palimpsest/devkit";
import { createLogger, prepareStreams } from "../src/index.ts";

let dir: string;
let cluster: NatsCluster;
let nc: NatsConnection;
const log = createLogger("sync", "silent", "test");

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "prepare-streams-"));
  cluster = await startNatsServer({ dataDir: dir, logDir: dir });
  nc = await connect({ ...cluster.connectOptions("admin"), name: "prepare-streams-test", maxReconnectAttempts: -1, reconnectTimeWait: 200 });
});
afterAll(async () => {
  await nc?.close().catch(() => undefined);
  await cluster?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("preparing the event streams at start", () => {
  it("given JetStream that stops answering until after the first request timed out, then the start waits and the streams are there", async () => {
    const node = cluster.nodes[0]!;
    await node.process.kill();
    const prepared = prepareStreams(nc, 1, log, { deadlineMs: 60_000 });
    let settled = false;
    void prepared.then(() => (settled = true), () => (settled = true));
    // Longer than a JetStream request's own timeout: the first try has failed by now.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(settled).toBe(false);
    await node.restart();
    const jsm = await prepared;
    expect((await jsm.streams.info(Streams.edits)).config.name).toBe(Streams.edits);
  }, 60_000);

  it("given a bus that never answers, then the start fails once its deadline has passed", async () => {
    const node = cluster.nodes[0]!;
    await node.process.kill();
    try {
      await expect(prepareStreams(nc, 1, log, { deadlineMs: 2_000 })).rejects.toThrow(/timeout/i);
    } finally {
      await node.restart();
    }
  }, 30_000);
});
