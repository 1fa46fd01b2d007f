import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { Streams, decodeEditHead, encodeEditHead, subjects, type EditHead } from "@palimpsest/contracts";
import { traceHeaders, type Logger } from "@palimpsest/platform";
import type { HeadsSink } from "./edit-log-projection.ts";
import type { HistoryDb } from "./schema.ts";

/** The server's answer to an expected last subject sequence that does not hold. */
const WRONG_LAST_SEQUENCE = 10071;
const REPAIR_PAGE = 500;

/**
 * Publishes each document's new head to EDIT_HEADS (see edit-heads.ts in the contracts): the edit
 * log's live projection calls it with every batch, so a reader learns each edited document's
 * latest version a few times a second at most, however many edits it had.
 *
 * Best effort: EDIT_HEADS is derived, and the edit log must not stop because it cannot be
 * written (a stream missing, a permission not yet granted during a rollout). A head that could
 * not be published is tried again with the next batch, and `repairEditHeads` (at start and every
 * minute) puts right what a crash in between lost.
 */
export function editHeadsPublisher(js: JetStreamClient, log: Logger): HeadsSink {
  const unsent = new Map<string, EditHead>();
  return async (heads) => {
    for (const { docId, head } of heads) {
      const before = unsent.get(docId);
      if (!before || before.seq < head.seq) unsent.set(docId, head);
    }
    // In the trace of the batch that took the edits in, when tracing is on.
    const headers = traceHeaders();
    const sending = [...unsent];
    const results = await Promise.allSettled(sending.map(([docId, head]) => js.publish(subjects.editHead(docId), encodeEditHead(head), headers ? { headers } : undefined)));
    let failed: unknown;
    results.forEach((r, i) => {
      const [docId, head] = sending[i]!;
      if (r.status === "rejected") failed = r.reason;
      else if (unsent.get(docId) === head) unsent.delete(docId);
    });
    if (failed !== undefined) log.warn({ err: failed, unsent: unsent.size }, "could not publish document heads; trying again with the next batch");
  };
}

/** An erased document has no head: an empty message takes the place of the last one. */
export async function eraseEditHead(js: JetStreamClient, docId: string): Promise<void> {
  await js.publish(subjects.editHead(docId), new Uint8Array(0));
}

type HeadsTarget = { stream: string; subject: (docId: string) => string };
const editHeadsTarget: HeadsTarget = { stream: Streams.editHeads, subject: subjects.editHead };

/**
 * Brings EDIT_HEADS up to the edit log: every document whose head there is missing or older than
 * its head in the edit log gets it written. Each write expects the head it read (expected last
 * subject sequence), so a newer one the live projection wrote meanwhile stays.
 *
 * It costs one read per document, so it looks at every document only when the stream has fewer
 * documents than the edit log (a new stream on a deployment that had documents, a fill cut short);
 * otherwise only at those edited since `recent` (heads a crash or a failed publish left behind).
 */
export async function repairEditHeads(
  db: Kysely<HistoryDb>,
  js: JetStreamClient,
  jsm: JetStreamManager,
  recent: Date,
  target: HeadsTarget = editHeadsTarget,
): Promise<number> {
  const known = (await jsm.streams.info(target.stream)).state.num_subjects ?? 0;
  const documents = Number((await db.selectFrom("doc_heads").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirst())?.n ?? 0);
  const since = known < documents ? null : recent;
  let written = 0;
  let after = "";
  for (;;) {
    let page = db.selectFrom("doc_heads").select(["doc_id", "seq", "last_at"]).where("doc_id", ">", after);
    if (since) page = page.where("last_at", ">=", since);
    const rows = await page.orderBy("doc_id").limit(REPAIR_PAGE).execute();
    if (rows.length === 0) return written;
    await Promise.all(
      rows.map(async (r) => {
        const subject = target.subject(r.doc_id);
        const stored = await jsm.streams.getMessage(target.stream, { last_by_subj: subject });
        const current = stored ? decodeEditHead(stored.data) : undefined;
        // An empty head is an erased document's: it stays so.
        if (current === null || (current !== undefined && current.seq >= Number(r.seq))) return;
        try {
          await js.publish(subject, encodeEditHead({ seq: Number(r.seq), at: r.last_at.toISOString() }), { expect: { lastSubjectSequence: stored?.seq ?? 0 } });
          written++;
        } catch (err) {
          if (!(err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE)) throw err;
        }
      }),
    );
    after = rows[rows.length - 1]!.doc_id;
  }
}
