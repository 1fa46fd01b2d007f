// The board itself: a scrollable, zoomable plane of cards that everyone edits at once.
//
// Dragging and resizing happen locally and through awareness while the pointer is down (others
// see the card follow the pointer), and are written to the shared document once, on release.
// Every write is tagged with this board's own origin, which is what its undo history tracks:
// undo takes back my changes, never someone else's.
//
// This component composes the board's parts, each in its own module:
//   use-board-cards       the cards, read from the shared document
//   use-board-undo        this person's undo history
//   use-presence-publisher, use-board-selection
//                         what this person shows the others; the selected card
//   use-settling-drops    cards others dropped, kept in place until the document has the drop
//   use-board-viewport    zoom, the viewport's size, screen to board coordinates
//   use-card-drag         dragging and resizing a card
//   use-card-creation     adding cards (toolbar, double-click, dropped or pasted images)
//   use-board-pan         dragging the empty board to look around
//   board-keys            undo/redo, Escape, Delete and the arrows
//   board-layout          where each card is drawn, who holds it, how big the world is
//   board-card, peer-pointer, board-toolbar
//                         what is drawn

import { useMemo, useRef } from "react";
import type { PointerEvent as ReactPointerEvent, ReactNode } from "react";
import { DocFields } from "@palimpsest/contracts/shared";
import type { CollabConnection, PresenceUser } from "../collab/collab-provider";
import { deleteCard, editText, setColor, setDone, setUrl, type CardView } from "./board-model";
import { BoardCard } from "./board-card";
import type { CardActions, PeerMark } from "./board-card";
import { useBoardPeers } from "./board-presence";
import { BoardToolbar } from "./board-toolbar";
import { boardKeyHandler } from "./board-keys";
import { layoutBoard } from "./board-layout";
import { PeerPointer } from "./peer-pointer";
import { useBoardCards } from "./use-board-cards";
import { useBoardPan } from "./use-board-pan";
import { useBoardSelection } from "./use-board-selection";
import { useBoardUndo } from "./use-board-undo";
import { useBoardViewport } from "./use-board-viewport";
import { useCardCreation } from "./use-card-creation";
import { useCardDrag } from "./use-card-drag";
import { usePresencePublisher } from "./use-presence-publisher";
import { useSettlingDrops } from "./use-settling-drops";

/** The comment threads on cards: how many are open on each, and the sidebar beside the board. */
export interface BoardComments {
  counts: ReadonlyMap<string, number>;
  /** A card's comment button was pressed. */
  open: (cardId: string) => void;
  /** Drawn beside the board, with what it needs to quote cards and comment on the selected one. */
  sidebar: (board: { cards: readonly CardView[]; selected: string | null }) => ReactNode;
}

interface BoardEditorProps {
  connection: CollabConnection;
  user: PresenceUser;
  readOnly: boolean;
  loaded: boolean;
  localLoaded: boolean;
  comments: BoardComments;
}

export function BoardEditor({ connection, user, readOnly, loaded, localLoaded, comments }: BoardEditorProps): ReactNode {
  const board = useMemo(() => connection.doc.getMap<unknown>(DocFields.board), [connection]);
  const cards = useBoardCards(board);
  const peers = useBoardPeers(connection.awareness);
  // Tags this person's writes: what undo tracks, and how the sync layer knows they are ours.
  const origin = useMemo(() => ({ board: connection.docId }), [connection]);
  const { undo, history } = useBoardUndo(board, origin);
  const publisher = usePresencePublisher(connection);

  const viewport = useRef<HTMLElement>(null);
  const plane = useRef<HTMLDivElement>(null);
  const cardsRef = useRef(cards);
  cardsRef.current = cards;
  const { zoom, zoomRef, viewSize, applyZoom, toBoard } = useBoardViewport(viewport, plane);
  const [selected, setSelected] = useBoardSelection(cards, connection, publisher);
  const settling = useSettlingDrops(peers, cards);
  const drag = useCardDrag({ board, origin, readOnly, publisher, cardsRef, zoomRef, toBoard });
  const { motion } = drag;
  const beginDrag = drag.begin;

  const openComments = useRef(comments.open);
  openComments.current = comments.open;
  const actions = useMemo<CardActions>(
    () => ({
      startGesture: (event, id, kind) => {
        setSelected(id);
        beginDrag(event, id, kind);
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
      openComments: (id) => {
        setSelected(id);
        openComments.current(id);
      },
    }),
    [board, origin, beginDrag, setSelected],
  );

  const { create, focusId, imageUpload } = useCardCreation({
    board,
    origin,
    docId: connection.docId,
    userId: user.id,
    readOnly,
    viewport,
    cardsRef,
    zoomRef,
    toBoard,
    select: setSelected,
  });

  const pan = useBoardPan(viewport);

  const onViewportPointerDown = (event: ReactPointerEvent<HTMLElement>): void => {
    const target = event.target;
    if (!(target instanceof Element) || target.closest(".card, .board-popover")) return;
    // The empty board: deselect, and drag to look around.
    setSelected(null);
    pan.start(event);
  };

  const onViewportPointerMove = (event: ReactPointerEvent<HTMLElement>): void => {
    pan.move(event);
    if (!drag.active()) publisher.current?.pointer(toBoard(event.clientX, event.clientY));
  };

  const onKeyDown = boardKeyHandler({ board, origin, readOnly, undo, cards, selected, setSelected, viewport });

  const { marks, peerMotion, rectOf, worldW, worldH } = layoutBoard({ cards, peers, motion, settling, viewSize, zoom });
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
        onPickImages={imageUpload.pick}
      />
      <div className="board-with-comments">
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
        onPointerUp={pan.end}
        onPointerCancel={pan.end}
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
                comments={comments.counts.get(card.id) ?? 0}
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
      {comments.sidebar({ cards, selected })}
      </div>
    </>
  );
}

const NO_MARKS: readonly PeerMark[] = [];
