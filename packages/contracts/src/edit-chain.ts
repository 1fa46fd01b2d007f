import { createHash } from "node:crypto";
import type { EditVia } from "./edit-codec.ts";

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
  /** The API token it was made through, when it was. */
  via?: EditVia | undefined;
  update: Uint8Array;
}

/**
 * Each edit's hash covers the previous edit's hash, its place in the document, who made it,
 * when, and its bytes: changing, removing, inserting or reordering any edit changes every hash
 * after it. Defined once here so the history service and the offline verifier cannot drift.
 *
 *   hash_n = sha256( hash_{n-1} "\n" docId "\n" seq "\n" author "\n" client "\n" time "\n" update )
 *
 * An edit made through an API token also covers the token, so its attribution cannot be changed
 * or removed either. Its input starts with "v2", which no hash (hex) starts with, so it can never
 * read as an edit without one; edits without a token hash as they always did.
 *
 *   hash_n = sha256( "v2\n" hash_{n-1} "\n" docId "\n" seq "\n" author "\n" client "\n" time "\n"
 *                    tokenId "\n" encodeURIComponent(name) "\n" update )
 */
export function chainHash(previousHash: string, edit: ChainedEdit): string {
  const via = edit.via ? `${edit.via.tokenId}\n${encodeURIComponent(edit.via.name)}\n` : "";
  return createHash("sha256")
    .update(`${edit.via ? "v2\n" : ""}${previousHash}\n${edit.docId}\n${edit.seq}\n${edit.author}\n${edit.client}\n${edit.time}\n${via}`)
    .update(edit.update)
    .digest("hex");
}
