// The board's scale and size on screen: zoom (buttons, Ctrl/⌘ + wheel, pinch) and the conversion
// from screen to board coordinates.

import { useCallback, useEffect, useRef, useState } from "react";
import type { MutableRefObject, RefObject } from "react";
import type { Point } from "./board-presence";
import { MAX_ZOOM, MIN_ZOOM } from "./board-toolbar";

export interface BoardViewport {
  zoom: number;
  /** The zoom as of now, for handlers that outlive a render. */
  zoomRef: MutableRefObject<number>;
  /** The viewport's size in screen pixels. */
  viewSize: { w: number; h: number };
  /** Zooms to `next` (clamped), keeping the point under the anchor (or the middle) where it is. */
  applyZoom: (next: number, anchor?: { clientX: number; clientY: number }) => void;
  /** A screen position as a point on the board. */
  toBoard: (clientX: number, clientY: number) => Point;
}

export function useBoardViewport(viewport: RefObject<HTMLElement | null>, plane: RefObject<HTMLDivElement | null>): BoardViewport {
  const [zoom, setZoom] = useState(1);
  const [viewSize, setViewSize] = useState({ w: 1200, h: 800 });
  const zoomRef = useRef(zoom);
  zoomRef.current = zoom;

  useEffect(() => {
    const element = viewport.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setViewSize({ w: element.clientWidth, h: element.clientHeight }));
    observer.observe(element);
    return () => observer.disconnect();
  }, [viewport]);

  const toBoard = useCallback(
    (clientX: number, clientY: number): Point => {
      const rect = plane.current?.getBoundingClientRect();
      const scale = zoomRef.current;
      return rect ? { x: (clientX - rect.left) / scale, y: (clientY - rect.top) / scale } : { x: 0, y: 0 };
    },
    [plane],
  );

  const applyZoom = useCallback(
    (next: number, anchor?: { clientX: number; clientY: number }): void => {
      const element = viewport.current;
      const clamped = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.round(next * 100) / 100));
      const previous = zoomRef.current;
      if (!element || clamped === previous) return;
      const box = element.getBoundingClientRect();
      const ax = anchor ? anchor.clientX - box.left : element.clientWidth / 2;
      const ay = anchor ? anchor.clientY - box.top : element.clientHeight / 2;
      // Keep the point under the anchor where it is.
      const bx = (element.scrollLeft + ax) / previous;
      const by = (element.scrollTop + ay) / previous;
      zoomRef.current = clamped;
      setZoom(clamped);
      requestAnimationFrame(() => {
        element.scrollLeft = bx * clamped - ax;
        element.scrollTop = by * clamped - ay;
      });
    },
    [viewport],
  );

  // Ctrl/⌘ + wheel (and pinch on trackpads) zooms; needs a non-passive listener to stop the page zooming.
  useEffect(() => {
    const element = viewport.current;
    if (!element) return;
    const onWheel = (event: WheelEvent): void => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      applyZoom(zoomRef.current * Math.exp(-event.deltaY / 300), event);
    };
    element.addEventListener("wheel", onWheel, { passive: false });
    return () => element.removeEventListener("wheel", onWheel);
  }, [viewport, applyZoom]);

  return { zoom, zoomRef, viewSize, applyZoom, toBoard };
}
