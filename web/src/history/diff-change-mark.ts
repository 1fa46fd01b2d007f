// The mark a formatted diff puts on changed text (see DIFF_CHANGE_MARK in the contracts): shown
// as an insertion, a deletion or a change of formatting, in the colour of whoever made it.

import { Mark } from "@tiptap/core";
import { DIFF_CHANGE_MARK, type DiffChangeKind } from "@palimpsest/contracts/shared";
import type { People } from "./use-history";

const TAGS: Record<DiffChangeKind, string> = { insert: "ins", delete: "del", format: "span" };
const VERBS: Record<DiffChangeKind, string> = { insert: "Added", delete: "Deleted", format: "Formatting changed" };

export function diffChangeMark(people: People): Mark {
  return Mark.create({
    name: DIFF_CHANGE_MARK,
    // Ranked before the document's own marks, so a change wraps a run whatever its formatting.
    priority: 1_000,
    inclusive: false,
    addAttributes() {
      return { kind: { default: "insert", rendered: false }, userId: { default: null, rendered: false } };
    },
    // Only ever made by the diff, never read from pasted HTML.
    parseHTML() {
      return [];
    },
    renderHTML({ mark }) {
      const kind: DiffChangeKind = mark.attrs["kind"] === "delete" || mark.attrs["kind"] === "format" ? mark.attrs["kind"] : "insert";
      const userId = typeof mark.attrs["userId"] === "string" ? mark.attrs["userId"] : "";
      const name = userId ? people.nameOf(userId) : "Unknown";
      return [TAGS[kind], { class: `diff-${kind}`, "data-author": userId, title: `${VERBS[kind]} by ${name}`, style: `--author: ${people.colorOf(userId)}` }, 0];
    },
  });
}
