import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { AppError, GENESIS_HASH, Streams, subjects, type DomainEvent, type EventPayload } from "@palimpsest/contracts";
import { appendEvent, decodeEvent, type DurableWorkerSpec, type Logger } from "@palimpsest/platform";
import type { SnapshotStore } from "./snapshot-store.ts";
import { eraseEditHead } from "./edit-heads.ts";
import type { HistoryDb } from "./schema.ts";

export type Tombstone = EventPayload<"doc.erased.v1">;

export interface ErasureDeps {
  db: Kysely<HistoryDb>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  s3: S3Client;
  bucket: string;
  snapshots: SnapshotStore;
  log: Logger;
}

/** Where the document's edit chain stands, from the edit log's newest row. */
export interface ChainHead {
  seq: number;
  streamSeq: number;
  hash: string;
}

/**
 * The tombstone for a purge, or undefined while the edit log has not yet projected the stream's
 * last edit of the document: the head it records must be the head of everything the stream held.
 */
export function tombstoneFor(docId: string, purge: { by: string | null; at: string; streamSeq: number }, head: ChainHead | undefined, lastStreamSeq: number | undefined): Tombstone | undefined {
  if (lastStreamSeq !== undefined && (head === undefined || head.streamSeq < lastStreamSeq)) return undefined;
  return {
    docId,
    ...(purge.by ? { purgedBy: purge.by } : {}),
    purgedAt: purge.at,
    purgeStreamSeq: purge.streamSeq,
    lastEditSeq: head?.seq ?? 0,
    lastEditStreamSeq: head?.streamSeq ?? 0,
    editHead: head?.hash ?? GENESIS_HASH,
  };
}

/**
 * Real erasure of a purged document, driven by its `doc.purged.v1` through a durable consumer, so
 * a crash anywhere is finished by the next delivery; every step is safe to repeat. In order:
 * 1. the tombstone (`doc.erased.v1` on `docs.erased.<docId>`) records where the edit chain stood,
 *    before anything is destroyed, and only once (expected last subject sequence 0);
 * 2. the edit log's rows, chunks, snapshots and the head that schedules new snapshots are
 *    deleted: the stream no longer holds the edits, so a read model that kept anything of them
 *    could not be rebuilt; the tombstone's chain head is what an earlier audit export verifies to;
 * 3. snapshot objects are deleted from the object store by prefix (so one whose row a crash lost
 *    goes too), and this replica's cache of snapshot bytes forgets the document;
 * 4. its head in EDIT_HEADS is emptied and its subject purged from the EDITS stream.
 * The document's files are the files service's (its own purge worker).
 */
export function createErasure(deps: ErasureDeps) {
  const { db, js, jsm, s3, bucket, snapshots, log } = deps;

  async function existingTombstone(docId: string): Promise<Tombstone | undefined> {
    const stored = await jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.erasure(docId) });
    if (!stored) return undefined;
    const event = decodeEvent(stored);
    return event.type === "doc.erased.v1" ? event.data : undefined;
  }

  async function leaveTombstone(docId: string, purge: { by: string | null; at: string; streamSeq: number }): Promise<Tombstone> {
    const already = await existingTombstone(docId);
    if (already) return already;
    const [head, last] = await Promise.all([
      db.selectFrom("edit_log").select(["seq", "stream_seq", "hash"]).where("doc_id", "=", docId).orderBy("seq", "desc").limit(1).executeTakeFirst(),
      jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(docId) }),
    ]);
    const tombstone = tombstoneFor(docId, purge, head ? { seq: Number(head.seq), streamSeq: Number(head.stream_seq), hash: head.hash } : undefined, last?.seq);
    // Thrown, so the purge event comes back later, once the edit log has caught up.
    if (!tombstone) throw new Error(`the edit log of ${docId} has not reached the stream's last edit yet`);
    const event: DomainEvent<"doc.erased.v1"> = { id: `${docId}.erased`, type: "doc.erased.v1", at: new Date().toISOString(), ...(purge.by ? { actorId: purge.by } : {}), data: tombstone };
    try {
      await appendEvent(js, subjects.erasure(docId), event, { expectedSeq: 0 });
      return tombstone;
    } catch (err) {
      // Another replica left it first: theirs is the record.
      if (err instanceof AppError && err.code === "CONFLICT") {
        const theirs = await existingTombstone(docId);
        if (theirs) return theirs;
      }
      throw err;
    }
  }

  async function deleteSnapshotObjects(docId: string): Promise<number> {
    let deleted = 0;
    for (;;) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `snapshots/${docId}/` }));
      const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length === 0) return deleted;
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      deleted += keys.length;
    }
  }

  async function erase(docId: string, purge: { by: string | null; at: string; streamSeq: number }): Promise<Tombstone> {
    const tombstone = await leaveTombstone(docId, purge);
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom("edit_log").where("doc_id", "=", docId).execute();
      await trx.deleteFrom("edit_chunks").where("doc_id", "=", docId).execute();
      await trx.deleteFrom("snapshots").where("doc_id", "=", docId).execute();
      await trx.deleteFrom("doc_heads").where("doc_id", "=", docId).execute();
      await trx.deleteFrom("audit_checkpoints").where("doc_id", "=", docId).execute();
    });
    const objects = await deleteSnapshotObjects(docId);
    snapshots.forget(docId);
    // The stream last: on an EDITS stream created before erasure existed (deny_purge, which NATS
    // cannot switch off) this fails and is retried, but everything history itself holds is gone.
    // The head before the stream: it must go even where the purge below is refused (an older EDITS).
    await eraseEditHead(js, docId);
    const purged = await jsm.streams.purge(Streams.edits, { filter: subjects.edits(docId) });
    log.info({ docId, edits: purged.purged, objects, lastEditSeq: tombstone.lastEditSeq }, "purged document erased");
    return tombstone;
  }

  const worker: DurableWorkerSpec = {
    durable: "history-erasure",
    stream: Streams.docs,
    filterSubject: subjects.allDocEvents(),
    ackWaitMs: 120_000,
    maxDeliver: 100,
    inFlight: 2,
    async handle(m) {
      const event = decodeEvent(m);
      if (event.type !== "doc.purged.v1") return "done";
      await erase(event.data.docId, { by: event.actorId ?? null, at: event.at, streamSeq: m.seq });
      return "done";
    },
  };

  return { erase, worker };
}
