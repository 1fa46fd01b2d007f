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

/** Room kept between a new card and those around it. */
const PLACE_GAP = 16;
/** How finely places around the middle are tried. */
const PLACE_STEP = 24;

/**
 * Where a new card of `size` goes when nobody pointed at a place: the free spot nearest the
 * middle of what is on screen (`view`, in board coordinates), clear of every card by a small gap,
 * so cards added one after another sit side by side in view instead of on top of each other.
 * With no free spot in view, the middle, stepped aside from cards already there.
 */
export function freeSpot(cards: readonly Rect[], size: { w: number; h: number }, view: Rect): { x: number; y: number } {
  const originX = view.x + view.w / 2 - size.w / 2;
  const originY = view.y + view.h / 2 - size.h / 2;
  const clear = (x: number, y: number): boolean =>
    !cards.some((c) => x < c.x + c.w + PLACE_GAP && x + size.w + PLACE_GAP > c.x && y < c.y + c.h + PLACE_GAP && y + size.h + PLACE_GAP > c.y);
  const inView = (x: number, y: number): boolean => x >= view.x && y >= view.y && x + size.w <= view.x + view.w && y + size.h <= view.y + view.h;
  const rings = Math.ceil(Math.max(view.w, view.h) / PLACE_STEP);
  for (let r = 0; r <= rings; r++) {
    // The square ring r steps out, nearest places first.
    const ring: { x: number; y: number; d: number }[] = [];
    for (let i = -r; i <= r; i++) {
      for (let j = -r; j <= r; j++) {
        if (Math.max(Math.abs(i), Math.abs(j)) !== r) continue;
        const x = Math.max(0, originX + i * PLACE_STEP);
        const y = Math.max(0, originY + j * PLACE_STEP);
        ring.push({ x, y, d: i * i + j * j });
      }
    }
    ring.sort((a, b) => a.d - b.d);
    const found = ring.find((p) => inView(p.x, p.y) && clear(p.x, p.y));
    if (found) return { x: found.x, y: found.y };
  }
  let x = Math.max(0, originX);
  let y = Math.max(0, originY);
  for (let i = 0; i < 20 && cards.some((c) => Math.abs(c.x - x) < PLACE_STEP && Math.abs(c.y - y) < PLACE_STEP); i++) {
    x += 2 * PLACE_STEP;
    y += 2 * PLACE_STEP;
  }
  return { x, y };
}
