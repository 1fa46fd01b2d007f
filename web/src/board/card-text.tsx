// A card's words in a plain textarea, bound to the card's Y.Text: typing here becomes the
// smallest edit of the shared text, and someone else's typing shows up without moving the
// caret of the person writing here.

import { memo, useEffect, useLayoutEffect, useRef } from "react";
import type { KeyboardEvent, ReactNode } from "react";
import { textEdit } from "./board-model";

interface CardTextProps {
  value: string;
  readOnly: boolean;
  placeholder: string;
  label: string;
  autoFocus: boolean;
  className?: string;
  /** The person changed the text from `previous` to `next`. */
  onEdit: (previous: string, next: string) => void;
}

/** Where `index` moves to when `before` becomes `after` by one contiguous change. */
function shiftIndex(before: string, after: string, index: number): number {
  const { start, removed, inserted } = textEdit(before, after);
  if (index <= start) return index;
  if (index >= start + removed) return index + inserted.length - removed;
  return start + inserted.length;
}

export const CardText = memo(function CardText({ value, readOnly, placeholder, label, autoFocus, className, onEdit }: CardTextProps): ReactNode {
  const ref = useRef<HTMLTextAreaElement>(null);
  // What the textarea shows, as last reconciled with the shared text.
  const shown = useRef(value);
  // Only the first value is handed to React: a changing defaultValue makes React rewrite the
  // textarea's content, which can move the caret of the person typing in it.
  const initial = useRef(value).current;

  useLayoutEffect(() => {
    const area = ref.current;
    if (!area || area.value === value) {
      shown.current = value;
      return;
    }
    const focused = document.activeElement === area;
    const { selectionStart, selectionEnd } = area;
    const before = area.value;
    area.value = value;
    shown.current = value;
    if (focused) area.setSelectionRange(shiftIndex(before, value, selectionStart), shiftIndex(before, value, selectionEnd));
  }, [value]);

  useEffect(() => {
    if (autoFocus && ref.current && !readOnly) {
      ref.current.focus();
      ref.current.setSelectionRange(ref.current.value.length, ref.current.value.length);
    }
  }, [autoFocus, readOnly]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    // Escape leaves the text (and keeps the card selected for the keyboard shortcuts).
    if (event.key === "Escape") {
      event.currentTarget.blur();
      event.stopPropagation();
    }
  };

  return (
    <textarea
      ref={ref}
      className={className ?? "card-text"}
      defaultValue={initial}
      readOnly={readOnly}
      placeholder={readOnly ? "" : placeholder}
      aria-label={label}
      spellCheck
      onKeyDown={onKeyDown}
      onInput={(event) => {
        const next = event.currentTarget.value;
        const previous = shown.current;
        shown.current = next;
        if (next !== previous) onEdit(previous, next);
      }}
    />
  );
});
