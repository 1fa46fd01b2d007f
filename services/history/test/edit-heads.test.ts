import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { decodeEditHead, encodeEditHead } from "@palimpsest/contracts";
import { createLogger, jetstreamOf } from "@palimpsest/platform";
import { natsOptionsFromEnv, scratchSchema, type ScratchSchema } from "@palimpsest/devkit";
import { backfillEditHeads, writeMissingHeads } from "../src/edit-heads.ts";
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

describe("filling a new EDIT_HEADS from the edit log", () => {
  const docs = Array.from({ length: 1_203 }, (_, i) => ({ doc_id: `doc-${String(i).padStart(5, "0")}`, seq: i + 1, stream_seq: 10_000 + i, last_at: new Date(Date.UTC(2026, 11, 1, 10, 0, 0, i)) }));

  it("given documents edited before the stream existed, then each gets its head, in pages", async () => {
    for (let i = 0; i < docs.length; i += 500) await db.insertInto("doc_heads").values(docs.slice(i, i + 500)).execute();
    expect(await backfillEditHeads(db, js, jsm, log, target)).toBe(docs.length);
    expect(await headOf("doc-00000")).toEqual({ seq: 1, at: "2026-12-01T10:00:00.000Z" });
    expect(await headOf("doc-01202")).toEqual({ seq: 1_203, at: docs[1_202]!.last_at.toISOString() });
    expect((await jsm.streams.info(stream)).state.num_subjects).toBe(docs.length);
  });

  it("given a stream that has held messages, then nothing is written again", async () => {
    await js.publish(target.subject("doc-00003"), encodeEditHead({ seq: 50, at: "2026-12-06T08:00:00.000Z" }));
    expect(await backfillEditHeads(db, js, jsm, log, target)).toBe(0);
    expect(await headOf("doc-00003")).toEqual({ seq: 50, at: "2026-12-06T08:00:00.000Z" });
  });

  it("given a head the live projection wrote while the fill ran, then that newer head stays", async () => {
    const other = { ...target, subject: (docId: string) => `${stream}.again-${docId}` };
    const live = { seq: 99, at: "2026-12-06T09:00:00.000Z" };
    await js.publish(other.subject("doc-00007"), encodeEditHead(live));
    expect(await writeMissingHeads(db, js, other)).toBe(docs.length - 1);
    const m = await jsm.streams.getMessage(stream, { last_by_subj: other.subject("doc-00007") });
    expect(m && decodeEditHead(m.data)).toEqual(live);
  });
});
