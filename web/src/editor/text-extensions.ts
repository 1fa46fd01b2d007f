// The rich text a document holds and how it is written: headings, lists, checklists, quotes,
// code blocks and links, with their Markdown shortcuts ("## ", "- ", "[ ] ", "> ", "```").
// The history shows old versions with these same extensions, so they look as they did.

import { Extension, InputRule } from "@tiptap/core";
import type { Extensions } from "@tiptap/core";
import { Plugin, PluginKey } from "@tiptap/pm/state";
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
        // A click while writing places the caret; Mod+click follows the link (LinkOpening, which
        // says so on hover), and a plain click does where the text is read-only, as on a web page.
        openOnClick: false,
        autolink: true,
        markdownLinks: true,
        defaultProtocol: "https",
        isAllowedUri: (uri) => isAllowedLinkUri(uri),
      },
    }),
    LinkOpening,
    TaskList,
    ChecklistItem.configure({
      nested: true,
      a11y: { checkboxLabel: (node, checked) => `${checked ? "Done" : "To do"}: ${node.textContent || "empty task"}` },
    }),
  ];
}

const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.userAgent);

/**
 * Following a link while writing: Cmd+click on a Mac, Ctrl+click elsewhere (where the text cannot
 * be edited, the browser follows a click on a link itself). Opened in a new tab without access
 * back to this page, and only when the address is one a link may have: another client may have
 * stored anything.
 */
const LinkOpening = Extension.create({
  name: "linkOpening",
  addProseMirrorPlugins() {
    const editor = this.editor;
    // Hovering a link while writing says how to follow it, with where it goes. Outside the
    // editable element, so nothing of it can become text.
    let hint: HTMLElement | null = null;
    const hide = (): void => {
      if (hint) hint.hidden = true;
    };
    return [
      new Plugin({
        key: new PluginKey("linkOpening"),
        view(view) {
          hint = document.createElement("div");
          hint.className = "link-hint";
          hint.setAttribute("role", "tooltip");
          hint.dataset["testid"] = "link-hint";
          hint.hidden = true;
          view.dom.parentElement?.appendChild(hint);
          return {
            destroy() {
              hint?.remove();
              hint = null;
            },
          };
        },
        props: {
          handleDOMEvents: {
            mouseover(view, event) {
              const target = event.target instanceof Element ? event.target.closest("a[href]") : null;
              if (!hint || !target || !view.dom.contains(target) || !editor.isEditable) return false;
              const href = target.getAttribute("href") ?? "";
              if (!isAllowedLinkUri(href)) return false;
              hint.textContent = `${isMac ? "⌘" : "Ctrl+"}click to open ${href}`;
              const box = target.getBoundingClientRect();
              hint.style.left = `${Math.max(4, box.left)}px`;
              hint.style.top = `${box.bottom + 4}px`;
              hint.hidden = false;
              return false;
            },
            mouseout(_view, event) {
              if (event.target instanceof Element && event.target.closest("a[href]")) hide();
              return false;
            },
            keydown() {
              hide();
              return false;
            },
          },
          handleClick(view, _pos, event) {
            if (event.button !== 0) return false;
            const target = event.target instanceof Element ? event.target.closest("a[href]") : null;
            if (!target || !view.dom.contains(target)) return false;
            if (!editor.isEditable || !(isMac ? event.metaKey : event.ctrlKey)) return false;
            const href = target.getAttribute("href") ?? "";
            if (isAllowedLinkUri(href)) window.open(href, "_blank", "noopener,noreferrer");
            event.preventDefault();
            return true;
          },
        },
      }),
    ];
  },
});

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
