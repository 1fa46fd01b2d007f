// Highlights the ranges that open comment threads point at, the active one more strongly, and
// tells the page which thread was clicked in the text. Ctrl+Alt+M (⌘⌥M) comments on the
// selection, as in the best-known editors.

import { Extension } from "@tiptap/core";
import { Plugin, PluginKey, type EditorState } from "@tiptap/pm/state";
import { ySyncPluginKey } from "@tiptap/y-tiptap";
import { Decoration, DecorationSet } from "@tiptap/pm/view";
import type { CommentAnchor } from "../api/types";
import { rangeOf } from "./comment-anchors";

export interface HighlightedThread {
  id: string;
  anchor: Extract<CommentAnchor, { type: "text" }>;
}

interface HighlightState {
  threads: HighlightedThread[];
  active: string | null;
  decorations: DecorationSet;
}

/** What the page hands the plugin (in a transaction's meta). */
type HighlightInput = Pick<HighlightState, "threads" | "active">;

function decorate(state: EditorState, { threads, active }: HighlightInput): DecorationSet {
  const decorations: Decoration[] = [];
  for (const thread of threads) {
    const range = rangeOf(state, thread.anchor);
    if (!range || range.from === range.to) continue;
    decorations.push(
      Decoration.inline(
        range.from,
        range.to,
        { class: thread.id === active ? "comment-highlight comment-highlight-active" : "comment-highlight", "data-comment-thread": thread.id },
        { threadId: thread.id },
      ),
    );
  }
  return DecorationSet.create(state.doc, decorations);
}

export const commentHighlightsKey = new PluginKey<HighlightState>("commentHighlights");

export interface CommentHighlightsOptions {
  /** A highlighted range was clicked: the thread it belongs to. */
  onActivate: (threadId: string) => void;
  /** Ctrl+Alt+M: comment on the selection. */
  onRequest: () => void;
}

export const CommentHighlights = Extension.create<CommentHighlightsOptions>({
  name: "commentHighlights",

  addOptions() {
    return { onActivate: () => undefined, onRequest: () => undefined };
  },

  addKeyboardShortcuts() {
    return {
      "Mod-Alt-m": () => {
        this.options.onRequest();
        return true;
      },
    };
  },

  addProseMirrorPlugins() {
    const options = this.options;
    return [
      new Plugin<HighlightState>({
        key: commentHighlightsKey,
        state: {
          init: () => ({ threads: [], active: null, decorations: DecorationSet.empty }),
          apply: (tr, value, _old, state) => {
            const input = tr.getMeta(commentHighlightsKey) as HighlightInput | undefined;
            if (input) return { ...input, decorations: decorate(state, input) };
            // From Yjs (someone else's edit, or the binding made): the positions read from Yjs
            // are current. A local edit reaches Yjs only after this, so the ranges move with the
            // edit's own mapping instead, as y-tiptap's carets do.
            const sync = tr.getMeta(ySyncPluginKey) as { isChangeOrigin?: boolean } | undefined;
            if (sync?.isChangeOrigin) return { ...value, decorations: decorate(state, value) };
            return tr.docChanged ? { ...value, decorations: value.decorations.map(tr.mapping, tr.doc) } : value;
          },
        },
        props: {
          decorations(state) {
            return commentHighlightsKey.getState(state)?.decorations ?? DecorationSet.empty;
          },
          handleClick(view, pos) {
            const decorations = commentHighlightsKey.getState(view.state)?.decorations ?? DecorationSet.empty;
            // The innermost (shortest) range under the click wins where threads overlap.
            let best: { id: string; size: number } | null = null;
            for (const d of decorations.find(pos, pos)) {
              const size = d.to - d.from;
              const id = (d.spec as { threadId?: string }).threadId;
              if (id && (!best || size < best.size)) best = { id, size };
            }
            if (best) options.onActivate(best.id);
            // The click still places the caret.
            return false;
          },
        },
      }),
    ];
  },
});
