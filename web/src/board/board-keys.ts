// The board's keys: undo and redo (one history for the whole board, text included), Escape to
// let go of the selected card, Delete to remove it, the arrows to nudge it.

import type { KeyboardEvent, RefObject } from "react";
import type * as Y from "yjs";
import { deleteCard, placeCard } from "./board-model";
import type { CardView } from "./board-model";
import type { Point } from "./board-presence";

const NUDGE = 10;

function isTextField(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ["TEXTAREA", "INPUT", "SELECT"].includes(target.tagName));
}

interface BoardKeysOptions {
  board: Y.Map<unknown>;
  origin: unknown;
  readOnly: boolean;
  undo: Y.UndoManager | null;
  cards: CardView[];
  selected: string | null;
  setSelected: (id: string | null) => void;
  viewport: RefObject<HTMLElement | null>;
}

export function boardKeyHandler({ board, origin, readOnly, undo, cards, selected, setSelected, viewport }: BoardKeysOptions): (event: KeyboardEvent<HTMLElement>) => void {
  return (event: KeyboardEvent<HTMLElement>): void => {
    const modKey = event.metaKey || event.ctrlKey;
    const key = event.key.toLowerCase();
    // One undo history for the whole board, text included, so it never fights the textarea's own.
    if (modKey && (key === "z" || key === "y") && !readOnly) {
      event.preventDefault();
      if (key === "y" || event.shiftKey) undo?.redo();
      else undo?.undo();
      return;
    }
    if (isTextField(event.target)) return;
    if (event.key === "Escape") {
      setSelected(null);
      return;
    }
    if (!selected || readOnly) return;
    const card = cards.find((candidate) => candidate.id === selected);
    if (!card) return;
    if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      deleteCard(board, card.id, origin);
      viewport.current?.focus({ preventScroll: true });
      return;
    }
    const step = event.shiftKey ? 1 : NUDGE;
    const moves: Record<string, Point> = { ArrowLeft: { x: -step, y: 0 }, ArrowRight: { x: step, y: 0 }, ArrowUp: { x: 0, y: -step }, ArrowDown: { x: 0, y: step } };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      placeCard(board, card.id, { ...card, x: card.x + move.x, y: card.y + move.y }, origin);
    }
  };
}
