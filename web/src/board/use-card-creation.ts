// Adding cards: from the toolbar (in the free spot nearest the middle of what is on screen), by double-click, and from
// image files dropped or pasted onto the board (uploaded, then placed where they were dropped).

import { useCallback, useLayoutEffect, useState } from "react";
import type { MutableRefObject, RefObject } from "react";
import type * as Y from "yjs";
import { useBoardImageUpload } from "../files/board-image-upload";
import type { BoardImageUpload } from "../files/board-image-upload";
import { freeSpot } from "./board-layout";
import { DEFAULT_SIZE, createCard } from "./board-model";
import type { CardView } from "./board-model";
import type { Point } from "./board-presence";
import type { NewCardRequest } from "./board-toolbar";

interface CardCreationOptions {
  board: Y.Map<unknown>;
  origin: unknown;
  docId: string;
  userId: string;
  readOnly: boolean;
  viewport: RefObject<HTMLElement | null>;
  cardsRef: MutableRefObject<CardView[]>;
  zoomRef: MutableRefObject<number>;
  toBoard: (clientX: number, clientY: number) => Point;
  select: (id: string) => void;
}

export interface CardCreation {
  /** Adds a card at `at`, or in the middle of what is on screen, and selects it. */
  create: (request: NewCardRequest & { fileId?: string }, at?: Point) => void;
  /** The card just added, for one render: its text field takes the focus. */
  focusId: string | null;
  imageUpload: BoardImageUpload;
}

export function useCardCreation({ board, origin, docId, userId, readOnly, viewport, cardsRef, zoomRef, toBoard, select }: CardCreationOptions): CardCreation {
  const [focusId, setFocusId] = useState<string | null>(null);

  const create = useCallback(
    (request: NewCardRequest & { fileId?: string }, at?: Point): void => {
      const size = DEFAULT_SIZE[request.kind];
      const element = viewport.current;
      const scale = zoomRef.current;
      let x: number;
      let y: number;
      if (at) {
        x = at.x - size.w / 2;
        y = at.y - 16;
      } else {
        // Nobody pointed at a place: the free spot nearest the middle of what is on screen.
        const view = element
          ? { x: element.scrollLeft / scale, y: element.scrollTop / scale, w: element.clientWidth / scale, h: element.clientHeight / scale }
          : { x: 0, y: 0, w: 360, h: 320 };
        ({ x, y } = freeSpot(cardsRef.current, size, view));
      }
      const id = createCard(board, { ...request, x: Math.max(0, x), y: Math.max(0, y), createdBy: userId }, origin);
      select(id);
      setFocusId(request.kind === "image" ? null : id);
    },
    [board, origin, userId, viewport, cardsRef, zoomRef, select],
  );

  // Image files dropped or pasted here upload, then become image cards where they were dropped.
  const imageUpload = useBoardImageUpload({
    docId,
    readOnly,
    toBoard,
    center: () => {
      const box = viewport.current?.getBoundingClientRect();
      return box ? toBoard(box.left + box.width / 2, box.top + box.height / 2) : { x: 180, y: 160 };
    },
    place: (file, at) => create({ kind: "image", fileId: file.id }, at),
  });

  useLayoutEffect(() => {
    if (focusId) setFocusId(null);
  }, [focusId]);

  return { create, focusId, imageUpload };
}
