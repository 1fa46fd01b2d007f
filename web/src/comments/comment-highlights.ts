// Highlights the ranges that open comment threads point at, the active one more strongly, and
// tells the page which thread was clicked in the text. Ctrl+Alt+M (⌘⌥M) comments on the
// selection, as in the best-known editors.

import { Extension } from "@tiptap/core";
import { Plugin, PluginKey } from "@tiptap/pm/state";
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
          init: () => ({ threads: [], active: null }),
          apply: (tr, value) => (tr.getMeta(commentHighlightsKey) as HighlightState | undefined) ?? value,
        },
        props: {
          decorations(state) {
            const { threads, active } = commentHighlightsKey.getState(state) ?? { threads: [], active: null };
            const decorations: Decoration[] = [];
            for (const thread of threads) {
              const range = rangeOf(state, thread.anchor);
              if (!range || range.from === range.to) continue;
              decorations.push(
                Decoration.inline(range.from, range.to, {
                  class: thread.id === active ? "comment-highlight comment-highlight-active" : "comment-highlight",
                  "data-comment-thread": thread.id,
                }),
              );
            }
            return DecorationSet.create(state.doc, decorations);
          },
          handleClick(view, pos) {
            const { threads } = commentHighlightsKey.getState(view.state) ?? { threads: [] };
            // The innermost (shortest) range under the click wins where threads overlap.
            let best: { id: string; size: number } | null = null;
            for (const thread of threads) {
              const range = rangeOf(view.state, thread.anchor);
              if (!range || pos < range.from || pos > range.to || range.from === range.to) continue;
              const size = range.to - range.from;
              if (!best || size < best.size) best = { id: thread.id, size };
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
