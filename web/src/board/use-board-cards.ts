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
      // The cache is invalidated only by the observer, which React attaches after the first
      // render: an update applied in between (a restore arriving as the board remounts) would
      // otherwise stay unseen until the next change. Read once more now that nothing is missed.
      onChange();
      return () => board.unobserveDeep(onChange);
    },
    [board],
  );
  const snapshot = useCallback((): CardView[] => {
    const current = state.current;
    if (current && current.board === board && !current.stale) return current.cards;
    const before = current?.board === board ? current.cards : [];
    const cards = readCards(board, new Map(before.map((card) => [card.id, card])));
    // Same cards, same objects: keep the array too, so a re-read that found nothing new renders nothing.
    const unchanged = cards.length === before.length && cards.every((card, i) => card === before[i]);
    state.current = { board, cards: unchanged ? before : cards, stale: false };
    return state.current.cards;
  }, [board]);
  return useSyncExternalStore(subscribe, snapshot);
}
