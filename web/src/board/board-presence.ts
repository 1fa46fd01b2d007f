// Live, never-stored board presence through Yjs awareness: where each person's pointer is,
// the card they are dragging or resizing (so others see it move before it is dropped), and
// the card they have selected. Only the drop is written to the document, so dragging a card
// across the board is one edit in the history rather than hundreds.

import { useEffect, useState } from "react";
import type { Awareness } from "y-protocols/awareness";
import { presenceColorOf } from "@palimpsest/contracts/shared";
import type { Rect } from "./board-model";

const FIELD = "board";
/** At most this often per person: smooth enough to follow, light on the wire. */
const PUBLISH_INTERVAL_MS = 40;

export interface Point {
  x: number;
  y: number;
}

export interface CardMotion extends Rect {
  id: string;
}

interface BoardPresence {
  pointer: Point | null;
  drag: CardMotion | null;
  selected: string | null;
}

export interface BoardPeer extends BoardPresence {
  clientId: number;
  name: string;
  color: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

function readPoint(value: unknown): Point | null {
  return isRecord(value) && isNumber(value.x) && isNumber(value.y) ? { x: value.x, y: value.y } : null;
}

function readMotion(value: unknown): CardMotion | null {
  if (!isRecord(value) || typeof value.id !== "string") return null;
  const { x, y, w, h } = value;
  return isNumber(x) && isNumber(y) && isNumber(w) && isNumber(h) ? { id: value.id, x, y, w, h } : null;
}

function readPeers(awareness: Awareness): BoardPeer[] {
  const peers: BoardPeer[] = [];
  for (const [clientId, state] of awareness.getStates()) {
    if (clientId === awareness.clientID || !isRecord(state)) continue;
    const user = state.user;
    const board = state[FIELD];
    if (!isRecord(user) || typeof user.name !== "string") continue;
    peers.push({
      clientId,
      name: user.name,
      // Other people's states are theirs to write: only a hex colour reaches a style or an SVG fill.
      color: presenceColorOf(user.color),
      pointer: isRecord(board) ? readPoint(board.pointer) : null,
      drag: isRecord(board) ? readMotion(board.drag) : null,
      selected: isRecord(board) && typeof board.selected === "string" ? board.selected : null,
    });
  }
  return peers.sort((a, b) => a.clientId - b.clientId);
}

/** Everyone else on this board, live. */
export function useBoardPeers(awareness: Awareness): BoardPeer[] {
  const [peers, setPeers] = useState<BoardPeer[]>(() => readPeers(awareness));
  useEffect(() => {
    const refresh = (): void => setPeers(readPeers(awareness));
    refresh();
    awareness.on("change", refresh);
    return () => awareness.off("change", refresh);
  }, [awareness]);
  return peers;
}

/** Publishes this person's board presence, throttled; drops and selections go out at once. */
export class PresencePublisher {
  private state: BoardPresence = { pointer: null, drag: null, selected: null };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSent = 0;

  constructor(private readonly awareness: Awareness) {}

  pointer(point: Point | null): void {
    // Whole board pixels: finer is invisible, and shorter on the wire.
    this.state = { ...this.state, pointer: point && { x: Math.round(point.x), y: Math.round(point.y) } };
    this.schedule();
  }

  drag(motion: CardMotion | null): void {
    this.state = { ...this.state, drag: motion };
    if (motion === null) this.flush();
    else this.schedule();
  }

  /** Ends a drag at once; with `final`, the place where it ended goes out first. */
  release(final: CardMotion | null): void {
    if (final) {
      this.state = { ...this.state, drag: final };
      this.flush();
    }
    this.drag(null);
  }

  select(id: string | null): void {
    if (this.state.selected === id) return;
    this.state = { ...this.state, selected: id };
    this.flush();
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // The awareness itself may already be gone with the connection.
    if (this.awareness.getLocalState() !== null) this.awareness.setLocalStateField(FIELD, null);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, PUBLISH_INTERVAL_MS - (Date.now() - this.lastSent));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastSent = Date.now();
    if (this.awareness.getLocalState() === null) return;
    this.awareness.setLocalStateField(FIELD, this.state);
  }
}
