// Dragging and resizing a card: local and through awareness while the pointer is down (others see
// the card follow the pointer), written to the shared document once, on release.

import { useCallback, useEffect, useRef, useState } from "react";
import type { MutableRefObject, PointerEvent as ReactPointerEvent, RefObject } from "react";
import type * as Y from "yjs";
import { MIN_SIZE, placeCard } from "./board-model";
import type { CardView, Rect } from "./board-model";
import type { CardGesture } from "./board-card";
import type { CardMotion, Point, PresencePublisher } from "./board-presence";

interface Gesture {
  id: string;
  kind: CardGesture;
  pointerId: number;
  start: Point;
  from: Rect;
  rect: Rect;
  moved: boolean;
}

/** Pointer travel (screen pixels) before a press on a card counts as a drag rather than a click. */
const DRAG_THRESHOLD = 3;

interface CardDragOptions {
  board: Y.Map<unknown>;
  origin: unknown;
  readOnly: boolean;
  publisher: RefObject<PresencePublisher | null>;
  cardsRef: MutableRefObject<CardView[]>;
  zoomRef: MutableRefObject<number>;
  toBoard: (clientX: number, clientY: number) => Point;
}

export interface CardDrag {
  /** The card in hand and where it is drawn, while one is. */
  motion: CardMotion | null;
  /** A press on a card: picks it up (unless read-only, or not the main button, or one is in hand). */
  begin: (event: ReactPointerEvent<HTMLElement>, id: string, kind: CardGesture) => void;
  /** Whether a card is in hand now. */
  active: () => boolean;
}

export function useCardDrag({ board, origin, readOnly, publisher, cardsRef, zoomRef, toBoard }: CardDragOptions): CardDrag {
  const gesture = useRef<Gesture | null>(null);
  const [motion, setMotion] = useState<CardMotion | null>(null);

  const onWindowPointerMove = useCallback(
    (event: PointerEvent): void => {
      const active = gesture.current;
      if (!active || event.pointerId !== active.pointerId) return;
      const scale = zoomRef.current;
      const dx = (event.clientX - active.start.x) / scale;
      const dy = (event.clientY - active.start.y) / scale;
      if (!active.moved && Math.hypot(event.clientX - active.start.x, event.clientY - active.start.y) < DRAG_THRESHOLD) return;
      active.moved = true;
      const { from } = active;
      active.rect =
        active.kind === "move"
          ? { ...from, x: Math.max(0, from.x + dx), y: Math.max(0, from.y + dy) }
          : { ...from, w: Math.max(MIN_SIZE.w, from.w + dx), h: Math.max(MIN_SIZE.h, from.h + dy) };
      const next: CardMotion = { id: active.id, ...active.rect };
      setMotion(next);
      publisher.current?.drag(next);
      publisher.current?.pointer(toBoard(event.clientX, event.clientY));
    },
    [toBoard, publisher, zoomRef],
  );

  const endGesture = useCallback(
    (event: PointerEvent): void => {
      const active = gesture.current;
      if (!active || event.pointerId !== active.pointerId) return;
      gesture.current = null;
      window.removeEventListener("pointermove", onWindowPointerMove);
      window.removeEventListener("pointerup", endGesture);
      window.removeEventListener("pointercancel", endGesture);
      const dropped = active.moved && event.type === "pointerup";
      if (dropped) placeCard(board, active.id, active.rect, origin);
      setMotion(null);
      // Others last saw a throttled step of the drag: show them where it really ended.
      publisher.current?.release(dropped ? { id: active.id, ...active.rect } : null);
    },
    [board, origin, onWindowPointerMove, publisher],
  );

  useEffect(
    () => () => {
      window.removeEventListener("pointermove", onWindowPointerMove);
      window.removeEventListener("pointerup", endGesture);
      window.removeEventListener("pointercancel", endGesture);
    },
    [onWindowPointerMove, endGesture],
  );

  const begin = useCallback(
    (event: ReactPointerEvent<HTMLElement>, id: string, kind: CardGesture): void => {
      if (readOnly || event.button !== 0 || gesture.current) return;
      const card = cardsRef.current.find((candidate) => candidate.id === id);
      if (!card) return;
      // No text selection or native image drag while a card is in hand.
      event.preventDefault();
      (event.currentTarget as HTMLElement).focus({ preventScroll: true });
      const from = { x: card.x, y: card.y, w: card.w, h: card.h };
      gesture.current = { id, kind, pointerId: event.pointerId, start: { x: event.clientX, y: event.clientY }, from, rect: from, moved: false };
      window.addEventListener("pointermove", onWindowPointerMove);
      window.addEventListener("pointerup", endGesture);
      window.addEventListener("pointercancel", endGesture);
    },
    [readOnly, cardsRef, onWindowPointerMove, endGesture],
  );

  const active = useCallback((): boolean => gesture.current !== null, []);

  return { motion, begin, active };
}
