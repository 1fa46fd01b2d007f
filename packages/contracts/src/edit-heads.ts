import { Type, type Static } from "@sinclair/typebox";
import { isValid } from "./schema.ts";

/**
 * Each document's newest edit, on `edit-heads.<docId>` in the EDIT_HEADS stream, which keeps one
 * message per subject. History writes it as its edit log takes in a document's edits, and an empty
 * message once it erases a purged document. It lets a reader that only needs "when was this
 * document last edited" (the document list's order) follow a few messages per document per second
 * instead of every edit.
 *
 * It is derived, not a source: EDITS stays the truth, and history writes a head again whenever
 * the document is edited.
 */
export const EditHead = Type.Object(
  {
    /** The document's version after that edit: how many edits it has. */
    seq: Type.Integer({ minimum: 1 }),
    /** When that edit was stored (its time header), ISO 8601. */
    at: Type.String({ format: "date-time" }),
  },
  { additionalProperties: false },
);
export type EditHead = Static<typeof EditHead>;

export function encodeEditHead(head: EditHead): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ seq: head.seq, at: head.at }));
}

/**
 * What a message on `edit-heads.<docId>` says: the head, or `null` when the document's content was
 * erased (an empty message). Anything else is not a head at all and reads as `undefined`.
 */
export function decodeEditHead(data: Uint8Array): EditHead | null | undefined {
  if (data.byteLength === 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  return isValid(EditHead, value) ? value : undefined;
}
