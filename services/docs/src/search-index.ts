import { setTimeout as delay } from "node:timers/promises";
import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { sql, type Transaction } from "kysely";
import { AppError, Streams, decodeEditHead, rpc, subjectDocId, subjects, type SearchTextView } from "@palimpsest/contracts";
import { callRpcOk, type Logger, type ProjectionSpec } from "@palimpsest/platform";
import type { DocsDb } from "./schema.ts";

/** Names the search index's checkpoint and leader lock. */
export const SEARCH_PROJECTION = "docs-search";

/**
 * The text search configuration, the same when indexing and querying. `simple` lowercases and
 * splits words and stems nothing: documents are written in many languages, and an English
 * stemmer would turn other languages' words into wrong stems (and drop English stop words a
 * title may consist of). The cost: "plums" does not find "plum".
 */
export const SEARCH_CONFIG = "simple";

/** Documents whose text is fetched from history at once, per batch. */
const FETCH_CONCURRENCY = 8;
/**
 * How long a batch waits for history to take in the heads it announced (history busy, say)
 * before it keeps the older text it was given: a document whose history does not catch up
 * must not hold the index (or a rebuild) back.
 */
const HISTORY_CATCH_UP_MS = 5_000;
const HISTORY_RETRY_MS = 250;

/** Each document in a batch once, at its newest head; `null`: its content was erased. */
export function latestHeads(msgs: readonly Pick<JsMsg, "subject" | "data">[]): Map<string, number | null> {
  const latest = new Map<string, number | null>();
  for (const m of msgs) {
    const docId = subjectDocId.editHead(m.subject);
    if (!docId) continue;
    const head = decodeEditHead(m.data);
    if (head === undefined) continue;
    // In stream order: the last message about a document is what it is now.
    latest.set(docId, head === null ? null : head.seq);
  }
  return latest;
}

async function eachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The search index of document text: a cache of what history renders at each document's newest
 * version, kept by following EDIT_HEADS (one message per document, rewritten as its edits are
 * taken in), so a burst of typing costs one fetch per document per batch, not one per keystroke.
 * Titles are not in it: they are matched from `documents`, so a rename is found at once.
 *
 * Rebuilt like any projection: its checkpoint gone, it replays EDIT_HEADS (every document's
 * newest head) and fetches each text again; the stored version keeps an older fetch from
 * overwriting a newer one.
 */
export function searchIndexSpec(nc: NatsConnection, log: Logger): ProjectionSpec<DocsDb> {
  return {
    name: SEARCH_PROJECTION,
    stream: Streams.editHeads,
    filterSubject: subjects.allEditHeads(),
    async apply(trx: Transaction<DocsDb>, msgs: JsMsg[]): Promise<void> {
      const heads = latestHeads(msgs);
      const erased = [...heads].filter(([, seq]) => seq === null).map(([docId]) => docId);
      const edited = [...heads].filter(([, seq]) => seq !== null).map(([docId]) => docId);
      const gone: string[] = [...erased];
      const texts: { doc_id: string; body: string; version: number }[] = [];
      const deadline = Date.now() + HISTORY_CATCH_UP_MS;
      await eachLimited(edited, FETCH_CONCURRENCY, async (docId) => {
        try {
          const fetchText = () => callRpcOk<SearchTextView>(nc, rpc.history.searchText, { requestId: `search-index:${docId}`, input: { docId } });
          const head = heads.get(docId) ?? 0;
          let view = await fetchText();
          // History has not taken this version in yet: ask again, for a moment.
          while (view.seq < head && Date.now() < deadline) {
            await delay(HISTORY_RETRY_MS);
            view = await fetchText();
          }
          if (view.seq < head) log.warn({ docId, head, version: view.seq }, "history stays behind this document's head; indexing the text it has");
          texts.push({ doc_id: docId, body: view.text, version: view.seq });
        } catch (err) {
          // Erased between its head and this fetch: its empty head follows and removes it too.
          if (err instanceof AppError && err.code === "NOT_FOUND") gone.push(docId);
          // Anything else (history restarting, a timeout): the batch is tried again.
          else throw err;
        }
      });
      if (gone.length > 0) await trx.deleteFrom("document_text").where("doc_id", "in", gone).execute();
      if (texts.length === 0) return;
      log.debug({ docs: texts.length }, "search index updated");
      await trx
        .insertInto("document_text")
        .values(
          texts.map((t) => ({
            doc_id: t.doc_id,
            body: t.body,
            version: t.version,
            tsv: sql<string>`setweight(to_tsvector(${sql.lit(SEARCH_CONFIG)}::regconfig, ${t.body}), 'B')`,
          })),
        )
        .onConflict((oc) =>
          oc
            .column("doc_id")
            .doUpdateSet({ body: (eb) => eb.ref("excluded.body"), tsv: (eb) => eb.ref("excluded.tsv"), version: (eb) => eb.ref("excluded.version") })
            .whereRef("document_text.version", "<=", "excluded.version"),
        )
        .execute();
    },
  };
}
