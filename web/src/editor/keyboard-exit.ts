// Leaving the text by keyboard. In the editor, Tab indents a list item, as people who write
// expect; but someone tabbing through the page must be able to pass the editor without changing
// the document, and to leave it again once inside. So Tab moves on instead of indenting when it
// is the first key after arriving by Tab, or after Escape: "Escape, then Tab" leaves the text.

import { Extension } from "@tiptap/core";
import { Plugin, PluginKey } from "@tiptap/pm/state";

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

/**
 * Moves focus to the next (or previous) focusable element of the page outside `from`; past the
 * last one it goes round to the first, as the page's own order would after the browser's bar.
 */
function focusBeyond(from: HTMLElement, direction: 1 | -1): boolean {
  const candidates = [...document.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => (el === from || !from.contains(el)) && el.getClientRects().length > 0 && !el.closest("[hidden], [inert]"),
  );
  const at = candidates.indexOf(from);
  if (at === -1 || candidates.length < 2) return false;
  const target = candidates[(at + direction + candidates.length) % candidates.length];
  target?.focus();
  return target !== undefined;
}

/** Keys that do not end "passing through": modifiers alone. */
const MODIFIERS = new Set(["Shift", "Control", "Alt", "Meta", "CapsLock"]);
/** A focus this soon after a Tab key came from that Tab. */
const TAB_FOCUS_MS = 500;

export const KeyboardExit = Extension.create({
  name: "keyboardExit",
  priority: 1000,
  addProseMirrorPlugins() {
    // True while Tab should move on: arrived by Tab, or Escape pressed, and nothing typed since.
    let passing = false;
    let tabAt = -Infinity;
    const noteTab = (event: KeyboardEvent): void => {
      if (event.key === "Tab") tabAt = event.timeStamp;
    };
    return [
      new Plugin({
        key: new PluginKey("keyboardExit"),
        view() {
          document.addEventListener("keydown", noteTab, true);
          return { destroy: () => document.removeEventListener("keydown", noteTab, true) };
        },
        props: {
          handleDOMEvents: {
            focus: (_view, event) => {
              passing = event.timeStamp - tabAt < TAB_FOCUS_MS;
              return false;
            },
            mousedown: () => {
              passing = false;
              return false;
            },
          },
          handleKeyDown: (view, event) => {
            if (event.key === "Escape") {
              passing = true;
              return false;
            }
            if (event.key === "Tab" && passing && !event.ctrlKey && !event.altKey && !event.metaKey) {
              return focusBeyond(view.dom, event.shiftKey ? -1 : 1);
            }
            if (!MODIFIERS.has(event.key)) passing = false;
            return false;
          },
        },
      }),
    ];
  },
});
