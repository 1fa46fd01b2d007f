// The board's cards as React state, read from the shared document.

import { useCallback, useRef, useSyncExternalStore } from "react";
import type * as Y from "yjs";
import { readCards } from "./board-model";
import type { CardView } from "./board-model";

/** The board's cards, re-read only after the board changed; unchanged cards keep their objects. */
export function useBoardCards(board: Y.Map<unknown>): CardView[] {
  const state = useRef<{ board: Y.Map<unknown>; cards: CardView[]; stale: boolean } | null>(null);
  const subscribe = useCallback(
    (notify: () => void) => {
      const onChange = (): void => {
        if (state.current) state.current.stale = true;
        notify();
      };
      board.observeDeep(onChange);
      return () => board.unobserveDeep(onChange);
    },
    [board],
  );
  const snapshot = useCallback((): CardView[] => {
    const current = state.current;
    if (current && current.board === board && !current.stale) return current.cards;
    const previous = new Map((current?.board === board ? current.cards : []).map((card) => [card.id, card]));
    const cards = readCards(board, previous);
    state.current = { board, cards, stale: false };
    return cards;
  }, [board]);
  return useSyncExternalStore(subscribe, snapshot);
}
