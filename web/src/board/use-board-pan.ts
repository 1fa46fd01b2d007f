// Dragging the empty board to look around: scrolls the viewport with the pointer.

import { useRef } from "react";
import type { PointerEvent as ReactPointerEvent, RefObject } from "react";
import type { Point } from "./board-presence";

interface Pan {
  pointerId: number;
  start: Point;
  scroll: Point;
}

export interface BoardPan {
  /** A press on the empty board: the main or middle button starts panning. */
  start: (event: ReactPointerEvent<HTMLElement>) => void;
  move: (event: ReactPointerEvent<HTMLElement>) => void;
  end: (event: ReactPointerEvent<HTMLElement>) => void;
}

export function useBoardPan(viewport: RefObject<HTMLElement | null>): BoardPan {
  const pan = useRef<Pan | null>(null);

  const start = (event: ReactPointerEvent<HTMLElement>): void => {
    if (event.button !== 0 && event.button !== 1) return;
    const element = viewport.current;
    if (!element) return;
    pan.current = { pointerId: event.pointerId, start: { x: event.clientX, y: event.clientY }, scroll: { x: element.scrollLeft, y: element.scrollTop } };
    element.setPointerCapture(event.pointerId);
    element.focus({ preventScroll: true });
  };

  const move = (event: ReactPointerEvent<HTMLElement>): void => {
    const active = pan.current;
    const element = viewport.current;
    if (active && element && event.pointerId === active.pointerId) {
      element.scrollLeft = active.scroll.x - (event.clientX - active.start.x);
      element.scrollTop = active.scroll.y - (event.clientY - active.start.y);
    }
  };

  const end = (event: ReactPointerEvent<HTMLElement>): void => {
    if (pan.current?.pointerId === event.pointerId) pan.current = null;
  };

  return { start, move, end };
}
