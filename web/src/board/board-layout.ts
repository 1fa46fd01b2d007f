// Where each card is drawn and who holds it: the card in this person's hand, then cards others
// are dragging, then cards others just dropped, then the stored place; and how big the board's
// world is around them.

import type { PeerMark } from "./board-card";
import type { CardView, Rect } from "./board-model";
import type { BoardPeer, CardMotion } from "./board-presence";
import type { Settling } from "./use-settling-drops";

/** Room to grow beyond the furthest card, so there is always space to drag into. */
const WORLD_MARGIN = 1_200;

export interface BoardLayout {
  /** Who holds each card (dragging or selecting it), by card id. */
  marks: Map<string, PeerMark[]>;
  /** Cards others are dragging, by card id. */
  peerMotion: Map<string, CardMotion>;
  rectOf: (card: CardView) => Rect;
  /** The board's size in board coordinates. */
  worldW: number;
  worldH: number;
}

interface BoardLayoutInput {
  cards: CardView[];
  peers: BoardPeer[];
  motion: CardMotion | null;
  settling: ReadonlyMap<string, Settling>;
  viewSize: { w: number; h: number };
  zoom: number;
}

export function layoutBoard({ cards, peers, motion, settling, viewSize, zoom }: BoardLayoutInput): BoardLayout {
  // What each card's holder is doing, and where to draw it.
  const marks = new Map<string, PeerMark[]>();
  const peerMotion = new Map<string, CardMotion>();
  for (const peer of peers) {
    const held = peer.drag?.id ?? peer.selected;
    if (held) marks.set(held, [...(marks.get(held) ?? []), { clientId: peer.clientId, name: peer.name, color: peer.color }]);
    if (peer.drag) peerMotion.set(peer.drag.id, peer.drag);
  }
  const rectOf = (card: CardView): Rect => {
    if (motion?.id === card.id) return motion;
    const moving = peerMotion.get(card.id);
    if (moving) return moving;
    const settle = settling.get(card.id);
    return settle ? settle.rect : card;
  };

  let furthestX = 0;
  let furthestY = 0;
  for (const card of cards) {
    const rect = rectOf(card);
    furthestX = Math.max(furthestX, rect.x + rect.w);
    furthestY = Math.max(furthestY, rect.y + rect.h);
  }
  const worldW = Math.max(furthestX + WORLD_MARGIN, viewSize.w / zoom);
  const worldH = Math.max(furthestY + WORLD_MARGIN, viewSize.h / zoom);
  return { marks, peerMotion, rectOf, worldW, worldH };
}
