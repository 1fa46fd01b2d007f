// Stream set-up as every service runs it at start, against the run's real nats-server: during a
// rolling deploy replicas of two releases start side by side, and the older one must not undo
// what the newer one set up.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { natsOptionsFromEnv } from "@palimpsest/devkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { ensureStreams, streamConfigs } from "@palimpsest/platform";

let nc: NatsConnection;
let jsm: JetStreamManager;
const created: string[] = [];

beforeAll(async () => {
  nc = await connect(natsOptionsFromEnv(inject("storeEnv")));
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  for (const name of created) await jsm.streams.delete(name).catch(() => undefined);
  await nc.close();
});

/** A stream configured as the product's own (limits, deny delete/purge), under names of its own. */
function releases(): { name: string; older: StreamConfig[]; newer: StreamConfig[]; subject: (s: string) => string } {
  const id = randomUUID().slice(0, 8);
  const name = `TEST_STREAMS_${id}`;
  created.push(name);
  // DOCS's config: it denies purges (EDITS allows them, to erase purged documents).
  const base = streamConfigs(1)[1]!;
  const subject = (s: string) => `teststreams.${id}.${s}`;
  return {
    name,
    subject,
    older: [{ ...base, name, subjects: [subject("docs.>")] }],
    newer: [{ ...base, name, subjects: [subject("docs.>"), subject("files.>")] }],
  };
}

describe("stream set-up", () => {
  it("a stream created denying purges keeps denying them when a release that allows them updates it, instead of the set-up failing", async () => {
    const r = releases();
    await ensureStreams(jsm, 1, { update: true, configs: r.older });
    await ensureStreams(jsm, 1, { update: true, configs: r.newer.map((c) => ({ ...c, deny_purge: false })) });
    const info = await jsm.streams.info(r.name);
    expect(info.config.deny_purge).toBe(true);
    expect([...info.config.subjects].sort()).toEqual([r.subject("docs.>"), r.subject("files.>")]);
  });

  it("an older release starting after a newer one keeps the subject the newer one added", async () => {
    const r = releases();
    await ensureStreams(jsm, 1, { update: true, configs: r.older });
    await ensureStreams(jsm, 1, { update: true, configs: r.newer });
    await ensureStreams(jsm, 1, { update: true, configs: r.older });

    const info = await jsm.streams.info(r.name);
    expect([...info.config.subjects].sort()).toEqual([r.subject("docs.>"), r.subject("files.>")]);
    expect(info.config.deny_purge).toBe(true);
    expect(info.config.deny_delete).toBe(true);
    // The newer release's events still have a stream to go to.
    const ack = await jetstream(nc).publish(r.subject("files.f1"), new Uint8Array([1]));
    expect(ack.stream).toBe(r.name);
  });

  it("is safe to run from many replicas at once", async () => {
    const r = releases();
    await Promise.all(Array.from({ length: 4 }, () => ensureStreams(jsm, 1, { update: true, configs: r.newer })));
    const info = await jsm.streams.info(r.name);
    expect([...info.config.subjects].sort()).toEqual([r.subject("docs.>"), r.subject("files.>")]);
  });
});
