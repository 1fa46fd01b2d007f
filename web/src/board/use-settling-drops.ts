// A card someone else just dropped: keep it where they let go until the document says so. The
// drop (an edit, stored first) and the end of the drag (presence, sent at once) come by different
// paths and in either order, so the card as stored when their drag began tells which came first.

import { useEffect, useRef, useState } from "react";
import type { CardView, Rect } from "./board-model";
import type { BoardPeer } from "./board-presence";

/** Where a card dropped by someone else stays drawn until its new place arrives in the document. */
export interface Settling {
  rect: Rect;
  /** The card as stored when the drop was seen: any change to it means the drop has arrived. */
  stored: Rect;
  until: number;
}

const SETTLE_MS = 2_000;

function sameRect(a: Rect, b: Rect): boolean {
  return Math.round(a.x) === Math.round(b.x) && Math.round(a.y) === Math.round(b.y) && Math.round(a.w) === Math.round(b.w) && Math.round(a.h) === Math.round(b.h);
}

/** The cards others dropped whose new place has not arrived yet, by card id. */
export function useSettlingDrops(peers: BoardPeer[], cards: CardView[]): ReadonlyMap<string, Settling> {
  const [settling, setSettling] = useState<ReadonlyMap<string, Settling>>(new Map());
  const previousPeers = useRef<BoardPeer[]>([]);
  const dragStarts = useRef(new Map<string, Rect>());
  const cardsRef = useRef(cards);
  cardsRef.current = cards;

  useEffect(() => {
    const now = Date.now();
    const stored = new Map(cardsRef.current.map((card) => [card.id, card]));
    const dropped = new Map<string, Settling>();
    const seen = new Set<string>();
    for (const peer of peers) {
      if (!peer.drag) continue;
      const key = `${peer.clientId}:${peer.drag.id}`;
      seen.add(key);
      const card = stored.get(peer.drag.id);
      if (card && !dragStarts.current.has(key)) dragStarts.current.set(key, card);
    }
    for (const before of previousPeers.current) {
      if (!before.drag) continue;
      const key = `${before.clientId}:${before.drag.id}`;
      if (seen.has(key)) continue;
      const start = dragStarts.current.get(key);
      const card = stored.get(before.drag.id);
      // Already stored: the document has the drop, which is exactly where they let go.
      if (!card || (start && !sameRect(card, start))) continue;
      dropped.set(before.drag.id, { rect: before.drag, stored: card, until: now + SETTLE_MS });
    }
    // Drags that ended (handled above) or whose peer left.
    for (const key of dragStarts.current.keys()) if (!seen.has(key)) dragStarts.current.delete(key);
    previousPeers.current = peers;
    if (dropped.size > 0) setSettling((current) => new Map([...current, ...dropped]));
  }, [peers]);

  useEffect(() => {
    if (settling.size === 0) return;
    const byId = new Map(cards.map((card) => [card.id, card]));
    const now = Date.now();
    const keep = new Map([...settling].filter(([id, entry]) => {
      const card = byId.get(id);
      return card !== undefined && entry.until > now && sameRect(card, entry.stored) && !sameRect(card, entry.rect);
    }));
    if (keep.size !== settling.size) {
      setSettling(keep);
      return;
    }
    const next = Math.min(...[...keep.values()].map((entry) => entry.until));
    const timer = setTimeout(() => setSettling((current) => new Map([...current].filter(([, entry]) => entry.until > Date.now()))), next - now + 10);
    return () => clearTimeout(timer);
  }, [settling, cards]);

  return settling;
}
