import * as Y from "yjs";
import { DocFields } from "@palimpsest/contracts";

const { richText, plainText, board } = DocFields;

/**
 * One Yjs update that turns `current` into a copy of `target`'s content: rich text (XmlFragment
 * `default`), plain text (Y.Text `t`) and the board (Y.Map `board`) are replaced; other shared
 * types are left alone. Applied on top of later concurrent edits, the CRDT merges them as usual:
 * the restored text plus whatever others typed meanwhile.
 */
function content(doc: Y.Doc): string {
  return JSON.stringify([
    doc.share.has(richText) ? doc.getXmlFragment(richText).toString() : "",
    doc.share.has(plainText) ? doc.getText(plainText).toDelta() : [],
    doc.share.has(board) ? doc.getMap(board).toJSON() : {},
  ]);
}

export function restoreUpdate(current: Y.Doc, target: Y.Doc): Uint8Array | null {
  if (content(current) === content(target)) return null;
  const before = Y.encodeStateVector(current);
  current.transact(() => {
    if (target.share.has(richText) || current.share.has(richText)) {
      const to = current.getXmlFragment(richText);
      const from = target.share.has(richText) ? target.getXmlFragment(richText) : null;
      if (to.length > 0) to.delete(0, to.length);
      if (from && from.length > 0) {
        to.insert(
          0,
          from.toArray().map((n) => (n as Y.XmlElement | Y.XmlText).clone()),
        );
      }
    }
    if (target.share.has(plainText) || current.share.has(plainText)) {
      const to = current.getText(plainText);
      if (to.length > 0) to.delete(0, to.length);
      if (target.share.has(plainText)) to.applyDelta(target.getText(plainText).toDelta());
    }
    if (target.share.has(board) || current.share.has(board)) {
      const to = current.getMap(board);
      const from = target.share.has(board) ? target.getMap(board) : null;
      for (const key of [...to.keys()]) if (!from?.has(key)) to.delete(key);
      from?.forEach((value, key) => {
        to.set(key, value instanceof Y.AbstractType ? (value as Y.AbstractType<unknown> & { clone(): Y.AbstractType<unknown> }).clone() : value);
      });
    }
  });
  const update = Y.encodeStateAsUpdate(current, before);
  // Nothing to restore (already equal): an update with no structs and no deletions.
  const decoded = Y.decodeUpdate(update);
  return decoded.structs.length === 0 && decoded.ds.clients.size === 0 ? null : update;
}
