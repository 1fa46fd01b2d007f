import { setTimeout as delay } from "node:timers/promises";
import type { Kysely } from "kysely";
import type { AnyDomainEvent } from "@palimpsest/contracts";
import { applyDocsEvent } from "./docs-projection.ts";
import { applyWorkspaceEvent } from "./workspaces-projection.ts";
import type { AccessCache } from "./access-cache.ts";
import type { DocsDb } from "./schema.ts";

/** How long a command waits for an earlier event on its document to be applied before answering anyway. */
const APPLY_IN_ORDER_WAIT_MS = 5_000;
const APPLY_RETRY_MS = 15;

/** Applies a command's stored event to the access cache and the read model before the command answers. */
export type ApplyStored = (docId: string, event: AnyDomainEvent, seq: number, previousSeq: number) => Promise<void>;

/**
 * Makes the command's own event visible before answering, so the caller reads what it wrote.
 * An earlier event on the same document that another command stored but has not applied yet
 * comes first: wait for it (its command or the projector applies it), never jump over it.
 */
export function readYourWrites(db: Kysely<DocsDb>, cache: AccessCache): ApplyStored {
  return async (docId, event, seq, previousSeq) => {
    cache.observe(docId, event, seq, previousSeq);
    // In one transaction: a reader sees the version and what the event changed together, which a
    // page told of this version (a rename notice) relies on.
    await applyInOrder(() => db.transaction().execute((trx) => applyDocsEvent(trx, event, seq, previousSeq)));
  };
}

/** The same for a workspace's events. */
export function readYourWorkspaceWrites(db: Kysely<DocsDb>, cache: AccessCache): ApplyStored {
  return async (workspaceId, event, seq, previousSeq) => {
    cache.observeWorkspace(workspaceId, event, seq, previousSeq);
    await applyInOrder(() => db.transaction().execute((trx) => applyWorkspaceEvent(trx, event, seq, previousSeq)));
  };
}

async function applyInOrder(applied: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + APPLY_IN_ORDER_WAIT_MS;
  while (!(await applied())) {
    // The projector applies it in stream order a moment later; the command is stored either way.
    if (Date.now() > deadline) return;
    await delay(APPLY_RETRY_MS);
  }
}
