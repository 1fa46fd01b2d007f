import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { Streams, encodeEditHead, subjects } from "@palimpsest/contracts";
import { traceHeaders, type Logger } from "@palimpsest/platform";
import type { HeadsSink } from "./edit-log-projection.ts";
import type { HistoryDb } from "./schema.ts";

/** The server's answer to an expected last subject sequence that does not hold. */
const WRONG_LAST_SEQUENCE = 10071;
const BACKFILL_PAGE = 500;

/**
 * Publishes each document's new head to EDIT_HEADS (see edit-heads.ts in the contracts): the edit
 * log's live projection calls it with every batch, so a reader learns each edited document's
 * latest version a few times a second at most, however many edits it had.
 */
export function editHeadsPublisher(js: JetStreamClient): HeadsSink {
  return async (heads) => {
    // In the trace of the batch that took the edits in, when tracing is on.
    const headers = traceHeaders();
    await Promise.all(heads.map(({ docId, head }) => js.publish(subjects.editHead(docId), encodeEditHead(head), headers ? { headers } : undefined)));
  };
}

/** An erased document has no head: an empty message takes the place of the last one. */
export async function eraseEditHead(js: JetStreamClient, docId: string): Promise<void> {
  await js.publish(subjects.editHead(docId), new Uint8Array(0));
}

type HeadsTarget = { stream: string; subject: (docId: string) => string };
const editHeadsTarget: HeadsTarget = { stream: Streams.editHeads, subject: subjects.editHead };

/**
 * Fills a new, empty EDIT_HEADS from the edit log's heads, so a deployment that had documents
 * before the stream existed lists them in order at once. Nothing is done when the stream has
 * ever held a message.
 */
export async function backfillEditHeads(db: Kysely<HistoryDb>, js: JetStreamClient, jsm: JetStreamManager, log: Logger, target: HeadsTarget = editHeadsTarget): Promise<number> {
  const state = (await jsm.streams.info(target.stream)).state;
  if (state.last_seq > 0) return 0;
  const written = await writeMissingHeads(db, js, target);
  if (written > 0) log.info({ written }, "document heads written to a new EDIT_HEADS stream");
  return written;
}

/**
 * Writes the edit log's head of every document that has none in the stream yet (expected last
 * subject sequence 0): a head the live projection wrote meanwhile is newer and stays.
 */
export async function writeMissingHeads(db: Kysely<HistoryDb>, js: JetStreamClient, target: HeadsTarget = editHeadsTarget): Promise<number> {
  let written = 0;
  let after = "";
  for (;;) {
    const rows = await db.selectFrom("doc_heads").select(["doc_id", "seq", "last_at"]).where("doc_id", ">", after).orderBy("doc_id").limit(BACKFILL_PAGE).execute();
    if (rows.length === 0) return written;
    await Promise.all(
      rows.map(async (r) => {
        try {
          await js.publish(target.subject(r.doc_id), encodeEditHead({ seq: Number(r.seq), at: r.last_at.toISOString() }), { expect: { lastSubjectSequence: 0 } });
          written++;
        } catch (err) {
          if (!(err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE)) throw err;
        }
      }),
    );
    after = rows[rows.length - 1]!.doc_id;
  }
}
