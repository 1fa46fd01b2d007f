import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { TimeoutError, connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { AppError, Streams, subjects } from "@palimpsest/contracts";
import { natsOptionsFromEnv } from "@palimpsest/devkit";
import { ensureStreams, publishDurably } from "@palimpsest/platform";
import { DocumentStore } from "../src/document-store.ts";

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
beforeAll(async () => {
  nc = await connect({ ...natsOptionsFromEnv(inject("storeEnv"), "docs"), name: "document-store-test" });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, 1, { update: false });
});
afterAll(async () => {
  await nc?.close();
});

/** The JetStream client, except that `publish` goes through `intercept` (fault injection). */
function faulty(intercept: (call: number, real: () => ReturnType<JetStreamClient["publish"]>) => ReturnType<JetStreamClient["publish"]>, client: JetStreamClient = js): JetStreamClient {
  let calls = 0;
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== "publish") return Reflect.get(target, prop, receiver);
      return (...args: Parameters<JetStreamClient["publish"]>) => intercept(++calls, () => target.publish(...args));
    },
  });
}

async function storedTypes(docId: string): Promise<string[]> {
  const types: string[] = [];
  for (let seq = 0; ; ) {
    const m = await jsm.streams.getMessage(Streams.docs, { seq: seq + 1, next_by_subj: subjects.docEvents(docId) } as never);
    if (!m) return types;
    types.push(m.json<{ type: string }>().type);
    seq = m.seq;
  }
}

const apply = async () => undefined;

describe("loading a document", () => {
  it.each([
    ["a few events (read one by one)", 3],
    ["a long history (the rest through a consumer)", 40],
  ])("given %s, interleaved with another document's, then the state is the fold of all of its own", async (_label, renames) => {
    const owner = randomUUID();
    const docId = randomUUID();
    const other = randomUUID();
    const store = new DocumentStore(js, jsm);
    await store.execute(docId, { type: "create", title: "title 0", kind: "text" }, owner, { apply });
    await store.execute(other, { type: "create", title: "other", kind: "text" }, owner, { apply });
    for (let i = 1; i <= renames; i++) {
      await store.execute(docId, { type: "rename", title: `title ${i}` }, owner, { apply });
      if (i % 3 === 0) await store.execute(other, { type: "rename", title: `other ${i}` }, owner, { apply });
    }
    const member = randomUUID();
    await store.execute(docId, { type: "share-with-user", userId: member, role: "commenter" }, owner, { apply });

    const { state, eventIds } = await new DocumentStore(js, jsm).load(docId);
    expect(state.title).toBe(`title ${renames}`);
    expect(state.members.get(member)).toBe("commenter");
    expect(eventIds.size).toBe(renames + 2);
    const last = await jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.docEvents(docId) });
    expect(state.version).toBe(last!.seq);
    expect((await new DocumentStore(js, jsm).load(other)).state.title).toBe(`other ${renames - (renames % 3)}`);
  });
});

describe("commands with an idempotency key", () => {
  it("given a purge whose second event was never stored (the service died between the two), when it is retried with the same key, then the retry stores what is missing", async () => {
    const owner = randomUUID();
    const docId = randomUUID();
    await new DocumentStore(js, jsm).execute(docId, { type: "create", title: "Plan", kind: "text" }, owner, { apply });
    const key = randomUUID();

    // When the first try stores "trashed" and dies before "purged"
    const dying = faulty((call, real) => (call === 1 ? real() : Promise.reject(new Error("process killed"))));
    await expect(new DocumentStore(dying, jsm).execute(docId, { type: "purge" }, owner, { idempotencyKey: key, apply })).rejects.toThrow("process killed");
    expect(await storedTypes(docId)).toEqual(["doc.created.v1", "doc.trashed.v1"]);

    // Then the retry completes it, and a further retry changes nothing
    const retried = await new DocumentStore(js, jsm).execute(docId, { type: "purge" }, owner, { idempotencyKey: key, apply });
    expect(retried.events.map((e) => e.event.type)).toEqual(["doc.purged.v1"]);
    expect(retried.state.purged).toBe(true);
    const again = await new DocumentStore(js, jsm).execute(docId, { type: "purge" }, owner, { idempotencyKey: key, apply });
    expect(again.events).toEqual([]);
    expect(await storedTypes(docId)).toEqual(["doc.created.v1", "doc.trashed.v1", "doc.purged.v1"]);
  });

  it("given a purge cut between its two events, when someone restores the document from the trash before the retry, then the retry is a conflict and stores nothing", async () => {
    const owner = randomUUID();
    const docId = randomUUID();
    const store = new DocumentStore(js, jsm);
    await store.execute(docId, { type: "create", title: "Plan", kind: "text" }, owner, { apply });
    const key = randomUUID();
    const dying = faulty((call, real) => (call === 1 ? real() : Promise.reject(new Error("process killed"))));
    await expect(new DocumentStore(dying, jsm).execute(docId, { type: "purge" }, owner, { idempotencyKey: key, apply })).rejects.toThrow("process killed");
    await store.execute(docId, { type: "untrash" }, owner, { apply });
    const retried = await store.execute(docId, { type: "purge" }, owner, { idempotencyKey: key, apply }).catch((err: unknown) => err);
    expect((retried as AppError).code).toBe("CONFLICT");
    expect(await storedTypes(docId)).toEqual(["doc.created.v1", "doc.trashed.v1", "doc.untrashed.v1"]);
  });

  it("given a rename stored by a first try, when another rename follows and the first is retried, then the retry is answered as before and stores nothing", async () => {
    const owner = randomUUID();
    const docId = randomUUID();
    const store = new DocumentStore(js, jsm);
    await store.execute(docId, { type: "create", title: "Plan", kind: "text" }, owner, { apply });
    const key = randomUUID();
    await store.execute(docId, { type: "rename", title: "A" }, owner, { idempotencyKey: key, apply });
    await store.execute(docId, { type: "rename", title: "B" }, owner, { apply });
    const retried = await store.execute(docId, { type: "rename", title: "A" }, owner, { idempotencyKey: key, apply });
    expect(retried.events).toEqual([]);
    expect(retried.state.title).toBe("B");
    expect(await storedTypes(docId)).toEqual(["doc.created.v1", "doc.renamed.v1", "doc.renamed.v1"]);
  });

  it("given two tries of one command at once, then the event is stored once, both answer with the document it made, and only one reports it as its change", async () => {
    const owner = randomUUID();
    const docId = randomUUID();
    const store = new DocumentStore(js, jsm);
    await store.execute(docId, { type: "create", title: "Plan", kind: "text" }, owner, { apply });
    const key = randomUUID();
    const tries = await Promise.all([0, 1].map(() => store.execute(docId, { type: "rename", title: "Same" }, owner, { idempotencyKey: key, apply })));
    expect(tries.map((t) => t.state.title)).toEqual(["Same", "Same"]);
    // Both decided on the same version, so the second append was the same event: a duplicate.
    expect(tries.flatMap((t) => t.events)).toHaveLength(1);
    expect(await storedTypes(docId)).toEqual(["doc.created.v1", "doc.renamed.v1"]);
  });
});

describe("an append whose answer never comes", () => {
  // A stream of its own: what these tests store is not an event, and the streams the services follow are shared by the run.
  const probe = `PROBE_${randomUUID().slice(0, 8)}`;
  let admin: NatsConnection;
  let adminJs: JetStreamClient;
  beforeAll(async () => {
    admin = await connect({ ...natsOptionsFromEnv(inject("storeEnv")), name: "document-store-test-admin" });
    adminJs = jetstream(admin);
    await (await jetstreamManager(admin)).streams.add({ name: probe, subjects: [`${probe}.>`] });
  });
  afterAll(async () => {
    await (await jetstreamManager(admin)).streams.delete(probe).catch(() => undefined);
    await admin?.close();
  });
  /** The probe stream's client, with `publish` through `intercept`. */
  const faultyProbe = (intercept: Parameters<typeof faulty>[0]) => faulty(intercept, adminJs);

  it("given an append stored but never acknowledged, when its time runs out, then one last look finds it stored and the append succeeds", async () => {
    const subject = `${probe}.a`;
    const lostAck = faultyProbe((call, real) => (call === 1 ? real().then(() => Promise.reject(new TimeoutError())) : Promise.reject(new TimeoutError())));
    const ack = await publishDurably(lostAck, subject, JSON.stringify({ probe: 1 }), { msgID: randomUUID(), stream: probe, expectedLastSubjectSeq: 0, deadlineMs: 1_000 });
    // Stored by this call's own first attempt: not someone else's duplicate, so the caller does what follows from it.
    expect(ack.duplicate).toBe(false);
    expect(ack.seq).toBeGreaterThan(0);
  });

  it("given an attempt stored whose ack was lost, when the next attempt is answered as a duplicate, then the append is this call's own", async () => {
    const subject = `${probe}.c`;
    const lostOnce = faultyProbe((call, real) => (call === 1 ? real().then(() => Promise.reject(new TimeoutError())) : real()));
    const ack = await publishDurably(lostOnce, subject, "{}", { msgID: randomUUID(), stream: probe, deadlineMs: 5_000 });
    expect(ack).toMatchObject({ duplicate: false });
    const again = await publishDurably(adminJs, subject, "{}", { msgID: randomUUID(), stream: probe });
    expect(again.seq).toBe(ack.seq + 1);
  });

  it("given an append that was not stored, when its time runs out, then the caller is told the outcome is unknown (TIMEOUT), not a generic error", async () => {
    const subject = `${probe}.b`;
    const silent = faultyProbe(() => Promise.reject(new TimeoutError()));
    const failed = await publishDurably(silent, subject, "{}", { msgID: randomUUID(), stream: probe, expectedLastSubjectSeq: 0, deadlineMs: 1_000 }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(AppError);
    expect((failed as AppError).code).toBe("TIMEOUT");
  });
});
