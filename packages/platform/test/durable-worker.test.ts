// Side-effect workers pull from a durable consumer. When the stream is created again (restored
// from a backup, or re-created by an operator), the consumer goes with it: the worker must make
// it again rather than wait forever for a consumer that no longer exists.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { natsOptionsFromEnv } from "@palimpsest/devkit";
import { createLogger, runDurableWorker } from "../src/index.ts";

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const stream = `WORKER_${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  nc = await connect({ ...natsOptionsFromEnv(inject("storeEnv")), name: "durable-worker-test" });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
});
afterAll(async () => {
  await jsm?.streams.delete(stream).catch(() => undefined);
  await nc?.close();
});

describe("a durable worker", () => {
  it("given its stream was deleted and created again, when new work is stored, then the worker makes its consumer again and does it", async () => {
    const done: string[] = [];
    const worker = runDurableWorker({
      js,
      jsm,
      log: createLogger("durable-worker-test", "silent", "test"),
      spec: {
        durable: "test-worker",
        stream,
        filterSubject: `${stream}.>`,
        ackWaitMs: 5_000,
        maxDeliver: 3,
        inFlight: 10,
        handle: async (m) => {
          done.push(m.string());
          return "done";
        },
      },
    });
    try {
      await js.publish(`${stream}.a`, "before");
      await vi.waitFor(() => expect(done).toEqual(["before"]), { timeout: 5_000 });

      // When the stream is created again, its consumer gone with it
      const { config } = await jsm.streams.info(stream);
      await jsm.streams.delete(stream);
      await jsm.streams.add(config as StreamConfig);
      await js.publish(`${stream}.a`, "after");

      // Then the work stored since is done
      await vi.waitFor(() => expect(done).toEqual(["before", "after"]), { timeout: 15_000 });
    } finally {
      await worker.stop();
    }
  });
});
