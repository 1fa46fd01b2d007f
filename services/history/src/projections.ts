import { Streams, subjects } from "@palimpsest/contracts";
import type { ProjectionSpec } from "@palimpsest/platform";
import { editLogApply, type HeadsSink } from "./edit-log-projection.ts";
import { applyActivityBatch } from "./activity-projection.ts";
import { historyProjections, type HistoryDb } from "./schema.ts";

export type HistoryProjectionSpec = { spec: ProjectionSpec<HistoryDb>; tables: readonly string[]; batchSize?: number; flushDelayMs?: number };

/**
 * The history service's read models: how each is built from its stream, and the tables it owns.
 * The running service gives `publishHeads`, so the edit log tells EDIT_HEADS each document's
 * newest edit; operator tools replay without it (the heads already written stay true).
 */
export function historyProjectionSpecsWith(opts: { publishHeads?: HeadsSink } = {}): HistoryProjectionSpec[] {
  return [
    // Each flush is a transaction of six statements, whatever its size: gathering edits for 200 ms
    // (not 50) writes a busy server's edits in a quarter of the transactions, and nobody reading
    // history sees a fifth of a second. The service takes it from EDIT_LOG_FLUSH_MS (default 200).
    { spec: { name: "edit-log", stream: Streams.edits, filterSubject: subjects.allEdits(), apply: editLogApply(opts.publishHeads) }, tables: historyProjections["edit-log"], batchSize: 1_000, flushDelayMs: 200 },
    // The whole DOCS stream: the document's own events and its file events (uploaded, thumbnail, deleted).
    { spec: { name: "doc-activity", stream: Streams.docs, filterSubject: subjects.allDocsStream(), apply: applyActivityBatch }, tables: historyProjections["doc-activity"] },
  ];
}

export const historyProjectionSpecs: HistoryProjectionSpec[] = historyProjectionSpecsWith();
