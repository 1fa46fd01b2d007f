import { Streams, subjects } from "@palimpsest/contracts";
import type { ProjectionSpec } from "@palimpsest/platform";
import { applyDocsBatch, applyEditHeadsBatch, applyUsersBatch } from "./docs-projection.ts";
import { applyNotificationsBatch } from "./notifications-projection.ts";
import { applyWorkspacesBatch } from "./workspaces-projection.ts";
import { docsProjections, type DocsDb } from "./schema.ts";

/** The read model of everyone's notifications: whose inbox its batches change is told live (inbox-notices.ts). */
export const NOTIFICATIONS_PROJECTION = "docs-notifications";

/** The docs service's read models: how each is built from its stream, and the tables it owns. */
export const docsProjectionSpecs: { spec: ProjectionSpec<DocsDb>; tables: readonly string[]; batchSize?: number; flushDelayMs?: number }[] = [
  { spec: { name: "docs", stream: Streams.docs, filterSubject: subjects.allDocEvents(), apply: applyDocsBatch }, tables: docsProjections.docs },
  { spec: { name: "docs-workspaces", stream: Streams.docs, filterSubject: subjects.allWorkspaceEvents(), apply: applyWorkspacesBatch }, tables: docsProjections["docs-workspaces"] },
  { spec: { name: "docs-users", stream: Streams.auth, filterSubject: subjects.allAuthEvents(), apply: applyUsersBatch }, tables: docsProjections["docs-users"] },
  {
    // Only when each document was last edited: from each document's head, which history writes as
    // it takes the edits in (a few per edited document per second), not from every edit. A second
    // of lag on the dashboard's order buys one write per second.
    spec: { name: "docs-edit-heads", stream: Streams.editHeads, filterSubject: subjects.allEditHeads(), apply: applyEditHeadsBatch },
    tables: docsProjections["docs-edit-heads"],
    batchSize: 5_000,
    flushDelayMs: 1_000,
  },
  {
    // The documents' events (mentions, replies, shares) and the inboxes (what was read), in one order.
    spec: { name: NOTIFICATIONS_PROJECTION, stream: Streams.docs, filterSubject: subjects.allDocsStream(), apply: applyNotificationsBatch },
    tables: docsProjections["docs-notifications"],
  },
];
