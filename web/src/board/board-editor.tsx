// The board itself: a scrollable, zoomable plane of cards that everyone edits at once.
//
// Dragging and resizing happen locally and through awareness while the pointer is down (others
// see the card follow the pointer), and are written to the shared document once, on release.
// Every write is tagged with this board's own origin, which is what its undo history tracks:
// undo takes back my changes, never someone else's.

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { KeyboardEvent, PointerEvent as ReactPointerEvent, ReactNode } from "react";
import * as Y from "yjs";
import { DocFields } from "@palimpsest/contracts/shared";
import type { CollabConnection, PresenceUser } from "../collab/collab-provider";
import { DEFAULT_SIZE, MIN_SIZE, createCard, deleteCard, editText, placeCard, readCards, setColor, setDone, setUrl } from "./board-model";
import type { CardView, Rect } from "./board-model";
import { BoardCard } from "./board-card";
import type { CardActions, CardGesture, PeerMark } from "./board-card";
import { PresencePublisher, useBoardPeers } from "./board-presence";
import type { BoardPeer, CardMotion, Point } from "./board-presence";
import { BoardToolbar, MAX_ZOOM, MIN_ZOOM } from "./board-toolbar";
import type { NewCardRequest } from "./board-toolbar";
import { useBoardImageUpload } from "../files/board-image-upload";

interface BoardEditorProps {
  connection: CollabConnection;
  user: PresenceUser;
  readOnly: boolean;
  loaded: boolean;
  localLoaded: boolean;
}

interface Gesture {
  id: string;
  kind: CardGesture;
  pointerId: number;
  start: Point;
  from: Rect;
  rect: Rect;
  moved: boolean;
}

interface Pan {
  pointerId: number;
  start: Point;
  scroll: Point;
}

/** Where a card dropped by someone else stays drawn until its new place arrives in the document. */
interface Settling {
  rect: Rect;
  /** The card as stored when the drop was seen: any change to it means the drop has arrived. */
  stored: Rect;
  until: number;
}

/** Pointer travel (screen pixels) before a press on a card counts as a drag rather than a click. */
const DRAG_THRESHOLD = 3;
const SETTLE_MS = 2_000;
/** Room to grow beyond the furthest card, so there is always space to drag into. */
const WORLD_MARGIN = 1_200;
const NUDGE = 10;

/** The board's cards, re-read only after the board changed; unchanged cards keep their objects. */
function useBoardCards(board: Y.Map<unknown>): CardView[] {
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

function sameRect(a: Rect, b: Rect): boolean {
  return Math.round(a.x) === Math.round(b.x) && Math.round(a.y) === Math.round(b.y) && Math.round(a.w) === Math.round(b.w) && Math.round(a.h) === Math.round(b.h);
}

function isTextField(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ["TEXTAREA", "INPUT", "SELECT"].includes(target.tagName));
}

function PeerPointer({ peer, zoom }: { peer: BoardPeer; zoom: number }): ReactNode {
  if (!peer.pointer) return null;
  return (
    <div
      className="board-pointer"
      data-testid="peer-pointer"
      data-name={peer.name}
      style={{ transform: `translate(${peer.pointer.x}px, ${peer.pointer.y}px) scale(${1 / zoom})` }}
      aria-hidden="true"
    >
      <svg viewBox="0 0 16 20" width="16" height="20">
        <path d="M1 1v15.5l4.3-4 2.9 6.5 2.6-1.2-2.9-6.3H14z" fill={peer.color} stroke="#fff" strokeWidth="1.3" strokeLinejoin="round" />
      </svg>
      <span className="board-pointer-name" style={{ backgroundColor: peer.color }}>
        {peer.name}
      </span>
    </div>
  );
}

export function BoardEditor({ connection, user, readOnly, loaded, localLoaded }: BoardEditorProps): ReactNode {
  const board = useMemo(() => connection.doc.getMap<unknown>(DocFields.board), [connection]);
  const cards = useBoardCards(board);
  const peers = useBoardPeers(connection.awareness);
  // Tags this person's writes: what undo tracks, and how the sync layer knows they are ours.
  const origin = useMemo(() => ({ board: connection.docId }), [connection]);
  // Made in effects, not during render: React may render and throw away a render (its memos
  // with it), and these listen to the document until destroyed.
  const [undo, setUndo] = useState<Y.UndoManager | null>(null);
  const publisher = useRef<PresencePublisher | null>(null);

  const viewport = useRef<HTMLElement>(null);
  const plane = useRef<HTMLDivElement>(null);
  const gesture = useRef<Gesture | null>(null);
  const pan = useRef<Pan | null>(null);
  const [motion, setMotion] = useState<CardMotion | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [focusId, setFocusId] = useState<string | null>(null);
  const [zoom, setZoom] = useState(1);
  const [viewSize, setViewSize] = useState({ w: 1200, h: 800 });
  const [history, setHistory] = useState({ canUndo: false, canRedo: false });
  const [settling, setSettling] = useState<ReadonlyMap<string, Settling>>(new Map());
  const zoomRef = useRef(zoom);
  zoomRef.current = zoom;

  useEffect(() => {
    const manager = new Y.UndoManager(board, { trackedOrigins: new Set([origin]), captureTimeout: 500 });
    const refresh = (): void => setHistory({ canUndo: manager.canUndo(), canRedo: manager.canRedo() });
    manager.on("stack-item-added", refresh);
    manager.on("stack-item-popped", refresh);
    manager.on("stack-cleared", refresh);
    setUndo(manager);
    refresh();
    return () => {
      manager.destroy();
      setUndo((current) => (current === manager ? null : current));
    };
  }, [board, origin]);

  useEffect(() => {
    const next = new PresencePublisher(connection.awareness);
    publisher.current = next;
    return () => {
      next.destroy();
      if (publisher.current === next) publisher.current = null;
    };
  }, [connection]);

  useEffect(() => {
    const element = viewport.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setViewSize({ w: element.clientWidth, h: element.clientHeight }));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    publisher.current?.select(selected);
  }, [selected, connection]);

  // A card someone else just dropped: keep it where they let go until the document says so. The
  // drop (an edit, stored first) and the end of the drag (presence, sent at once) come by different
  // paths and in either order, so the card as stored when their drag began tells which came first.
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

  // Deleted under us (by someone else, or by undo): let go of it.
  useEffect(() => {
    if (selected && !cards.some((card) => card.id === selected)) setSelected(null);
  }, [cards, selected]);

  const toBoard = useCallback((clientX: number, clientY: number): Point => {
    const rect = plane.current?.getBoundingClientRect();
    const scale = zoomRef.current;
    return rect ? { x: (clientX - rect.left) / scale, y: (clientY - rect.top) / scale } : { x: 0, y: 0 };
  }, []);

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
    [toBoard],
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
    [board, origin, onWindowPointerMove],
  );

  useEffect(
    () => () => {
      window.removeEventListener("pointermove", onWindowPointerMove);
      window.removeEventListener("pointerup", endGesture);
      window.removeEventListener("pointercancel", endGesture);
    },
    [onWindowPointerMove, endGesture],
  );

  const actions = useMemo<CardActions>(
    () => ({
      startGesture: (event, id, kind) => {
        setSelected(id);
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
      select: (id) => setSelected(id),
      editText: (id, field, previous, next) => editText(board, id, field, previous, next, origin),
      setDone: (id, done) => setDone(board, id, done, origin),
      setColor: (id, color) => setColor(board, id, color, origin),
      setUrl: (id, url) => setUrl(board, id, url, origin),
      remove: (id) => {
        deleteCard(board, id, origin);
        viewport.current?.focus({ preventScroll: true });
      },
    }),
    [board, origin, readOnly, onWindowPointerMove, endGesture],
  );

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
        // The middle of what is on screen, stepping aside from cards already centred there.
        let cx = element ? (element.scrollLeft + element.clientWidth / 2) / scale : 180;
        let cy = element ? (element.scrollTop + element.clientHeight / 2) / scale : 160;
        const taken = (px: number, py: number): boolean =>
          cardsRef.current.some((card) => Math.abs(card.x + card.w / 2 - px) < 16 && Math.abs(card.y + card.h / 2 - py) < 16);
        for (let i = 0; i < 20 && taken(cx, cy); i++) {
          cx += 32;
          cy += 32;
        }
        x = cx - size.w / 2;
        y = cy - size.h / 2;
      }
      const id = createCard(board, { ...request, x: Math.max(0, x), y: Math.max(0, y), createdBy: user.id }, origin);
      setSelected(id);
      setFocusId(request.kind === "image" ? null : id);
    },
    [board, origin, user.id],
  );

  // Image files dropped or pasted here upload, then become image cards where they were dropped.
  const imageUpload = useBoardImageUpload({
    docId: connection.docId,
    readOnly,
    toBoard,
    center: () => {
      const box = viewport.current?.getBoundingClientRect();
      return box ? toBoard(box.left + box.width / 2, box.top + box.height / 2) : { x: 180, y: 160 };
    },
    place: (file, at) => create({ kind: "image", fileId: file.id }, at),
  });

  const applyZoom = useCallback((next: number, anchor?: { clientX: number; clientY: number }): void => {
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
  }, []);

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
  }, [applyZoom]);

  useLayoutEffect(() => {
    if (focusId) setFocusId(null);
  }, [focusId]);

  const onViewportPointerDown = (event: ReactPointerEvent<HTMLElement>): void => {
    const target = event.target;
    if (!(target instanceof Element) || target.closest(".card, .board-popover")) return;
    // The empty board: deselect, and drag to look around.
    setSelected(null);
    if (event.button !== 0 && event.button !== 1) return;
    const element = viewport.current;
    if (!element) return;
    pan.current = { pointerId: event.pointerId, start: { x: event.clientX, y: event.clientY }, scroll: { x: element.scrollLeft, y: element.scrollTop } };
    element.setPointerCapture(event.pointerId);
    element.focus({ preventScroll: true });
  };

  const onViewportPointerMove = (event: ReactPointerEvent<HTMLElement>): void => {
    const active = pan.current;
    const element = viewport.current;
    if (active && element && event.pointerId === active.pointerId) {
      element.scrollLeft = active.scroll.x - (event.clientX - active.start.x);
      element.scrollTop = active.scroll.y - (event.clientY - active.start.y);
    }
    if (!gesture.current) publisher.current?.pointer(toBoard(event.clientX, event.clientY));
  };

  const onViewportPointerUp = (event: ReactPointerEvent<HTMLElement>): void => {
    if (pan.current?.pointerId === event.pointerId) pan.current = null;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLElement>): void => {
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
  const ready = loaded || localLoaded;

  return (
    <>
      <BoardToolbar
        readOnly={readOnly}
        zoom={zoom}
        canUndo={history.canUndo}
        canRedo={history.canRedo}
        onCreate={create}
        onUndo={() => undo?.undo()}
        onRedo={() => undo?.redo()}
        onZoom={(next) => applyZoom(next)}
      />
      <main
        ref={viewport}
        className="board-viewport"
        data-testid="board"
        data-loaded={loaded ? "true" : "false"}
        data-readonly={readOnly ? "true" : "false"}
        tabIndex={-1}
        aria-label="Board"
        onPointerDown={onViewportPointerDown}
        onPointerMove={onViewportPointerMove}
        onPointerUp={onViewportPointerUp}
        onPointerCancel={onViewportPointerUp}
        onPointerLeave={() => publisher.current?.pointer(null)}
        onDoubleClick={(event) => {
          const target = event.target;
          if (readOnly || !(target instanceof Element) || target.closest(".card, .board-popover")) return;
          create({ kind: "note" }, toBoard(event.clientX, event.clientY));
        }}
        onKeyDown={onKeyDown}
        onDragOver={imageUpload.onDragOver}
        onDrop={imageUpload.onDrop}
        onPaste={imageUpload.onPaste}
      >
        <div className="board-world" style={{ width: worldW * zoom, height: worldH * zoom }}>
          <div
            ref={plane}
            className="board-plane"
            style={{ width: worldW, height: worldH, transform: `scale(${zoom})`, backgroundSize: `${24}px ${24}px` }}
          >
            {cards.map((card) => (
              <BoardCard
                key={card.id}
                card={card}
                rect={rectOf(card)}
                readOnly={readOnly}
                selected={selected === card.id}
                moving={motion?.id === card.id || peerMotion.has(card.id)}
                autoFocus={focusId === card.id}
                peers={marks.get(card.id) ?? NO_MARKS}
                actions={actions}
              />
            ))}
            {peers.map((peer) => (
              <PeerPointer key={peer.clientId} peer={peer} zoom={zoom} />
            ))}
            {imageUpload.overlay}
          </div>
        </div>
        {cards.length === 0 && ready && (
          <div className="board-empty">
            <p>{readOnly ? "This board is empty." : "This board is empty. Add a card from the toolbar, or double-click anywhere to write a note."}</p>
          </div>
        )}
        {!ready && <p className="board-empty muted">Loading the board…</p>}
      </main>
    </>
  );
}

const NO_MARKS: readonly PeerMark[] = [];
