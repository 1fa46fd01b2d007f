// Appends go out as plain publishes with their acks gathered on one subscription: every answer
// JetStream can give must mean what it meant through nats.js's request.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PermissionViolationError, RequestError, TimeoutError, connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { natsOptionsFromEnv } from "@palimpsest/devkit";
import { jetstreamOf, publishDurably } from "../src/index.ts";

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const stream = `ACKS_${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  nc = await connect({ ...natsOptionsFromEnv(inject("storeEnv")), name: "ack-inbox-test" });
  js = jetstreamOf(nc);
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
});
afterAll(async () => {
  await jsm?.streams.delete(stream).catch(() => undefined);
  await nc?.close();
});

describe("appends through the ack inbox", () => {
  it("given appends in flight at once, then each gets its own ack, in the order stored", async () => {
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => js.publish(`${stream}.a`, `m${i}`)));
    const seqs = acks.map((a) => a.seq);
    expect(new Set(seqs).size).toBe(50);
    expect(acks.every((a) => a.stream === stream && !a.duplicate)).toBe(true);
    const first = await jsm.streams.getMessage(stream, { seq: seqs[0]! });
    expect(first?.string()).toBe("m0");
  });

  it("given a message id stored before, then the ack says duplicate and gives the stored sequence", async () => {
    const id = randomUUID();
    const a = await js.publish(`${stream}.b`, "once", { msgID: id });
    const b = await js.publish(`${stream}.b`, "once", { msgID: id });
    expect(b).toMatchObject({ seq: a.seq, duplicate: true });
  });

  it("given a wrong expected last subject sequence, then the append fails as JetStream's error, with its code, and stores nothing", async () => {
    const subject = `${stream}.c.${randomUUID()}`;
    const { seq } = await js.publish(subject, "first", { expect: { lastSubjectSequence: 0 } });
    const err = await js.publish(subject, "second", { expect: { lastSubjectSequence: seq - 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect((err as JetStreamApiError).code).toBe(JetStreamApiCodes.StreamWrongLastSequence);
    const ok = await js.publish(subject, "second", { expect: { lastSubjectSequence: seq }, headers: headers() });
    expect(ok.seq).toBeGreaterThan(seq);
  });

  it("given a subject no stream stores, then the append fails as no responders", async () => {
    const err = await js.publish(`nowhere.${randomUUID()}`, "x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).isNoResponders()).toBe(true);
  });

  it("given a subject whose listener never answers, then the append times out", async () => {
    const subject = `silent.${randomUUID()}`;
    const sub = nc.subscribe(subject, { callback: () => undefined });
    try {
      const started = Date.now();
      const err = await js.publish(subject, "x", { timeout: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      sub.unsubscribe();
    }
  });

  it("given a subject the bus does not let this service publish to, then the append fails at once as refused, and a durable append does not wait out its deadline", async () => {
    const docs = await connect({ ...natsOptionsFromEnv(inject("storeEnv"), "docs"), name: "ack-inbox-test-docs" });
    try {
      const docsJs = jetstreamOf(docs);
      const started = Date.now();
      const err = await docsJs.publish(`forbidden.${randomUUID()}`, "x").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RequestError);
      expect((err as RequestError).cause).toBeInstanceOf(PermissionViolationError);
      const durable = await publishDurably(docsJs, `forbidden.${randomUUID()}`, "x", { msgID: randomUUID(), stream }).catch((e: unknown) => e);
      expect(durable).toBeInstanceOf(RequestError);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await docs.close();
    }
  });

  it("given a durable publish, then it resolves once stored, and its retry with the same id stores nothing more", async () => {
    const subject = `${stream}.d.${randomUUID()}`;
    const id = randomUUID();
    const first = await publishDurably(js, subject, "edit", { msgID: id, stream, expectedLastSubjectSeq: 0 });
    const again = await publishDurably(js, subject, "edit", { msgID: id, stream, expectedLastSubjectSeq: 0 });
    expect(again.seq).toBe(first.seq);
    expect(again.duplicate).toBe(true);
    expect((await jsm.streams.info(stream, { subjects_filter: subject })).state.subjects).toEqual({ [subject]: 1 });
  });
});
