import { Streams, subjects } from "@palimpsest/contracts";
import type { ProjectionSpec } from "@palimpsest/platform";
import { applyDocsBatch, applyLastEditBatch, applyUsersBatch } from "./docs-projection.ts";
import { docsProjections, type DocsDb } from "./schema.ts";

/** The docs service's read models: how each is built from its stream, and the tables it owns. */
export const docsProjectionSpecs: { spec: ProjectionSpec<DocsDb>; tables: readonly string[]; batchSize?: number; flushDelayMs?: number }[] = [
  { spec: { name: "docs", stream: Streams.docs, filterSubject: subjects.allDocEvents(), apply: applyDocsBatch }, tables: docsProjections.docs },
  { spec: { name: "docs-users", stream: Streams.auth, filterSubject: subjects.allAuthEvents(), apply: applyUsersBatch }, tables: docsProjections["docs-users"] },
  {
    // Only when each document was last edited: the edits' bytes are never sent here, and a
    // second of lag on the dashboard's order buys one write per second instead of twenty.
    spec: { name: "docs-last-edit", stream: Streams.edits, filterSubject: subjects.allEdits(), apply: applyLastEditBatch, headersOnly: true },
    tables: docsProjections["docs-last-edit"],
    batchSize: 5_000,
    flushDelayMs: 1_000,
  },
];
