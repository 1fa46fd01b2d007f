// Whether a document shows a file: an image in its text, or an image card on its board. Asked
// before a file is deleted, since deleting it leaves "This image was deleted." in its place for
// everyone.

import * as Y from "yjs";
import { DocFields } from "@palimpsest/contracts/shared";

function textShows(node: Y.XmlFragment | Y.XmlElement, fileId: string): boolean {
  for (const child of node.toArray()) {
    if (!(child instanceof Y.XmlElement)) continue;
    if (child.getAttribute("fileId") === fileId) return true;
    if (textShows(child, fileId)) return true;
  }
  return false;
}

function boardShows(board: Y.Map<unknown>, fileId: string): boolean {
  for (const card of board.values()) {
    const id = card instanceof Y.Map ? card.get("fileId") : typeof card === "object" && card !== null ? (card as Record<string, unknown>)["fileId"] : undefined;
    if (id === fileId) return true;
  }
  return false;
}

export function documentShowsFile(doc: Y.Doc, fileId: string): boolean {
  return textShows(doc.getXmlFragment(DocFields.richText), fileId) || boardShows(doc.getMap(DocFields.board), fileId);
}
