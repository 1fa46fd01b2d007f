import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { decodeEditHead, encodeEditHead } from "@palimpsest/contracts";
import { createLogger, jetstreamOf } from "@palimpsest/platform";
import { natsOptionsFromEnv, scratchSchema, type ScratchSchema } from "@palimpsest/devkit";
import { editHeadsPublisher, repairEditHeads } from "../src/edit-heads.ts";
import { historyMigrations, type HistoryDb } from "../src/schema.ts";

// A scratch stream shaped like EDIT_HEADS (one message per subject), so the shared one is left alone.
const stream = `HEADS_${randomUUID().slice(0, 8)}`;
const target = { stream, subject: (docId: string) => `${stream}.${docId}` };
const log = createLogger("edit-heads-test", "silent", "test");

let scratch: ScratchSchema<HistoryDb>;
let db: Kysely<HistoryDb>;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  scratch = await scratchSchema<HistoryDb>(inject("storeEnv")["DATABASE_URL"]!, "edit_heads", historyMigrations);
  db = scratch.db;
  nc = await connect({ ...natsOptionsFromEnv(inject("storeEnv")), name: "edit-heads-test" });
  js = jetstreamOf(nc);
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], max_msgs_per_subject: 1 });
});
afterAll(async () => {
  await jsm?.streams.delete(stream).catch(() => undefined);
  await nc?.close();
  await scratch?.drop();
});

async function headOf(docId: string) {
  const m = await jsm.streams.getMessage(stream, { last_by_subj: target.subject(docId) });
  return m ? decodeEditHead(m.data) : undefined;
}

describe("bringing EDIT_HEADS up to the edit log", () => {
  const docs = Array.from({ length: 1_203 }, (_, i) => ({ doc_id: `doc-${String(i).padStart(5, "0")}`, seq: i + 1, stream_seq: 10_000 + i, last_at: new Date(Date.UTC(2026, 11, 1, 10, 0, 0, i)) }));

  it("given documents edited before the stream existed, then each gets its head, in pages; a second run writes nothing", async () => {
    for (let i = 0; i < docs.length; i += 500) await db.insertInto("doc_heads").values(docs.slice(i, i + 500)).execute();
    const longAgo = new Date(Date.UTC(2027, 0, 1));
    // The stream has fewer documents than the edit log: every document is looked at, however old its edit.
    expect(await repairEditHeads(db, js, jsm, longAgo, target)).toBe(docs.length);
    expect(await headOf("doc-00000")).toEqual({ seq: 1, at: "2026-12-01T10:00:00.000Z" });
    expect(await headOf("doc-01202")).toEqual({ seq: 1_203, at: docs[1_202]!.last_at.toISOString() });
    expect((await jsm.streams.info(stream)).state.num_subjects).toBe(docs.length);
    expect(await repairEditHeads(db, js, jsm, new Date(0), target)).toBe(0);
  });

  it("given a head older than the edit log's (a publish lost in a crash), then it is replaced; a newer one and an erased one stay", async () => {
    await js.publish(target.subject("doc-00003"), encodeEditHead({ seq: 1, at: "2026-11-30T08:00:00.000Z" }));
    const live = { seq: 99, at: "2026-12-06T09:00:00.000Z" };
    await js.publish(target.subject("doc-00005"), encodeEditHead(live));
    await js.publish(target.subject("doc-00007"), new Uint8Array(0));
    // Once the stream knows every document, only those edited since the given time are looked at.
    expect(await repairEditHeads(db, js, jsm, new Date(docs[4]!.last_at), target)).toBe(0);
    expect(await repairEditHeads(db, js, jsm, new Date(docs[3]!.last_at), target)).toBe(1);
    expect(await headOf("doc-00003")).toEqual({ seq: 4, at: docs[3]!.last_at.toISOString() });
    expect(await headOf("doc-00005")).toEqual(live);
    expect(await headOf("doc-00007")).toBeNull();
  });
});

describe("publishing heads from the edit log", () => {
  it("given a publish that fails, then the edit log goes on and the head is sent with the next batch, unless a newer one came", async () => {
    const sent: { subject: string; head: unknown }[] = [];
    let failNext = true;
    const flaky = {
      publish: async (subject: string, data: Uint8Array) => {
        if (failNext) {
          failNext = false;
          throw new Error("no responders");
        }
        sent.push({ subject, head: decodeEditHead(data) });
        return { stream: "EDIT_HEADS", seq: sent.length, duplicate: false, domain: "" };
      },
    } as unknown as JetStreamClient;
    const publish = editHeadsPublisher(flaky, log);
    await publish([{ docId: "doc-a", head: { seq: 3, at: "2026-12-07T10:00:00.000Z" } }]);
    expect(sent).toEqual([]);
    await publish([{ docId: "doc-b", head: { seq: 1, at: "2026-12-07T10:00:01.000Z" } }]);
    expect(sent.map((s) => [s.subject, s.head])).toEqual([
      ["edit-heads.doc-a", { seq: 3, at: "2026-12-07T10:00:00.000Z" }],
      ["edit-heads.doc-b", { seq: 1, at: "2026-12-07T10:00:01.000Z" }],
    ]);
    await publish([]);
    expect(sent).toHaveLength(2);
  });
});
