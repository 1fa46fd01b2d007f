import { createHash } from "node:crypto";

/** The hash before a document's first edit. */
export const GENESIS_HASH = "0".repeat(64);

export interface ChainedEdit {
  docId: string;
  /** The document's version: 1 for its first edit. */
  seq: number;
  author: string;
  client: string;
  /** The time the edit was stored, as recorded in its `Collab-Time` header. */
  time: string;
  update: Uint8Array;
}

/**
 * Each edit's hash covers the previous edit's hash, its place in the document, who made it,
 * when, and its bytes: changing, removing, inserting or reordering any edit changes every hash
 * after it. Defined once here so the history service and the offline verifier cannot drift.
 *
 *   hash_n = sha256( hash_{n-1} "\n" docId "\n" seq "\n" author "\n" client "\n" time "\n" update )
 */
export function chainHash(previousHash: string, edit: ChainedEdit): string {
  return createHash("sha256")
    .update(`${previousHash}\n${edit.docId}\n${edit.seq}\n${edit.author}\n${edit.client}\n${edit.time}\n`)
    .update(edit.update)
    .digest("hex");
}
