// The rich text a document holds and how it is written: headings, lists, checklists, quotes,
// code blocks and links, with their Markdown shortcuts ("## ", "- ", "[ ] ", "> ", "```").
// The history shows old versions with these same extensions, so they look as they did.

import { Extension, InputRule } from "@tiptap/core";
import type { Extensions } from "@tiptap/core";
import { TaskItem, TaskList } from "@tiptap/extension-list";
import StarterKit from "@tiptap/starter-kit";
import { isAllowedLinkUri } from "./link-address";

/** "[ ] " or "[x] " typed at the start of a bulleted item, as after Markdown's "- [ ] ". */
const TASK_IN_BULLET = /^\s*\[([ xX])?\]\s$/;

const ChecklistItem = TaskItem.extend({
  addInputRules() {
    // "- " has already made a bulleted item by the time "[ ] " is typed: turn that item into a
    // task instead of nesting a checklist in it. "[ ] " in a plain paragraph is TipTap's own rule.
    const bulletToTask = new InputRule({
      find: TASK_IN_BULLET,
      handler: ({ state, range, match, chain }) => {
        const $start = state.doc.resolve(range.from);
        if ($start.depth < 3 || $start.index(-1) !== 0) return null;
        if ($start.node(-1).type.name !== "listItem" || $start.node(-2).type.name !== "bulletList") return null;
        chain()
          .deleteRange(range)
          .toggleTaskList()
          .updateAttributes(this.name, { checked: match[1]?.toLowerCase() === "x" })
          .run();
      },
    });
    return [bulletToTask, ...(this.parent?.() ?? [])];
  },
});

export function textExtensions(): Extensions {
  return [
    StarterKit.configure({
      // Yjs keeps the undo history (per user, shared-document aware), so ProseMirror's must be off.
      undoRedo: false,
      link: {
        // A click while writing places the caret; the link box (Mod-K) has "Open". Read-only
        // documents follow links on click as web pages do.
        openOnClick: false,
        autolink: true,
        markdownLinks: true,
        defaultProtocol: "https",
        isAllowedUri: (uri) => isAllowedLinkUri(uri),
      },
    }),
    TaskList,
    ChecklistItem.configure({
      nested: true,
      a11y: { checkboxLabel: (node, checked) => `${checked ? "Done" : "To do"}: ${node.textContent || "empty task"}` },
    }),
  ];
}

/** Mod-K asks for the link box, which lives in the toolbar: `onRequest` opens it. */
export const LinkShortcut = Extension.create<{ onRequest: () => void }>({
  name: "linkShortcut",
  addOptions() {
    return { onRequest: () => {} };
  },
  addKeyboardShortcuts() {
    return {
      "Mod-k": () => {
        if (!this.editor.isEditable) return false;
        this.options.onRequest();
        return true;
      },
    };
  },
});

/**
 * Redo keys that never undo. When a shifted letter's command declines, ProseMirror looks the key
 * up again without Shift; Chrome on macOS reports Cmd+Shift+Z as "z" with Shift held, so with
 * nothing to redo, Shift-Mod-z fell through to Mod-z and undid the last change, for everyone.
 * Ahead of Collaboration's own bindings, and always the end of the key's handling.
 */
export const RedoKeys = Extension.create({
  name: "redoKeys",
  priority: 1000,
  addKeyboardShortcuts() {
    const redo = () => {
      if (this.editor.isEditable) this.editor.commands.redo();
      return true;
    };
    return { "Shift-Mod-z": redo, "Mod-y": redo };
  },
});
