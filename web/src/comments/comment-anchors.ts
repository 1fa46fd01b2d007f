// Where a comment thread sits in the rich text: Yjs relative positions into the XmlFragment the
// editor is bound to, so a range follows its text through everyone's concurrent edits and
// collapses when its text is deleted (the thread is then shown as detached).

import * as Y from "yjs";
import type { EditorState } from "@tiptap/pm/state";
import { absolutePositionToRelativePosition, relativePositionToAbsolutePosition, ySyncPluginKey } from "@tiptap/y-tiptap";
import type { CommentAnchor } from "../api/types";

type TextAnchor = Extract<CommentAnchor, { type: "text" }>;

/** What the collaboration plugin keeps: the shared type, its document and the node mapping. */
interface SyncState {
  doc: Y.Doc;
  type: Y.XmlFragment;
  binding: { mapping: Map<Y.AbstractType<unknown>, unknown> } | null;
}

function syncState(state: EditorState): SyncState | null {
  const sync = ySyncPluginKey.getState(state) as SyncState | undefined;
  return sync?.binding ? sync : null;
}

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The selection as an anchor, or null when nothing is selected (or the editor is not bound yet). */
export function anchorOfSelection(state: EditorState): TextAnchor | null {
  const sync = syncState(state);
  const { from, to, empty } = state.selection;
  if (!sync || empty) return null;
  const encode = (pos: number) => toBase64(Y.encodeRelativePosition(absolutePositionToRelativePosition(pos, sync.type, sync.binding!.mapping as never)));
  return { type: "text", start: encode(from), end: encode(to) };
}

/** The anchor's range in the editor now; `null` when it cannot be placed, empty when its text is gone. */
export function rangeOf(state: EditorState, anchor: TextAnchor): { from: number; to: number } | null {
  const sync = syncState(state);
  if (!sync) return null;
  try {
    const place = (encoded: string) =>
      relativePositionToAbsolutePosition(sync.doc, sync.type, Y.decodeRelativePosition(fromBase64(encoded)), sync.binding!.mapping as never);
    const from = place(anchor.start);
    const to = place(anchor.end);
    if (from === null || to === null) return null;
    return { from: Math.min(from, to), to: Math.max(from, to) };
  } catch {
    // An anchor from another editor that does not decode: shown as detached rather than failing the page.
    return null;
  }
}

/** The text a thread is about, as it reads now ("" once it was deleted). */
export function quotedText(state: EditorState, anchor: TextAnchor): string {
  const range = rangeOf(state, anchor);
  return range ? state.doc.textBetween(range.from, range.to, " ", " ") : "";
}
