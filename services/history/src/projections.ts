import { Streams, subjects } from "@palimpsest/contracts";
import type { ProjectionSpec } from "@palimpsest/platform";
import { applyEditBatch } from "./edit-log-projection.ts";
import { applyActivityBatch } from "./activity-projection.ts";
import { historyProjections, type HistoryDb } from "./schema.ts";

/** The history service's read models: how each is built from its stream, and the tables it owns. */
export const historyProjectionSpecs: { spec: ProjectionSpec<HistoryDb>; tables: readonly string[]; batchSize?: number }[] = [
  { spec: { name: "edit-log", stream: Streams.edits, filterSubject: subjects.allEdits(), apply: applyEditBatch }, tables: historyProjections["edit-log"], batchSize: 1_000 },
  // The whole DOCS stream: the document's own events and its file events (uploaded, thumbnail, deleted).
  { spec: { name: "doc-activity", stream: Streams.docs, filterSubject: subjects.allDocsStream(), apply: applyActivityBatch }, tables: historyProjections["doc-activity"] },
];
