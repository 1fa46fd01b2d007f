// The shape of a board in Yjs, and every change the board UI makes to it.
//
// A board is the Y.Map named `board` (DocFields.board in contracts): card id → one Y.Map per card, so people
// changing different things about one card (one moves it, another ticks it, a third types in
// it) all keep their change. Texts are Y.Text, so two people typing in one note merge by
// character. Fields:
//
//   kind   "note" | "task" | "image" | "link"
//   x, y   top-left corner in board pixels;  w, h  size;  z  stacking order (higher on top)
//   text   Y.Text: a note's or task's words, an image's caption
//   title  Y.Text: a link's title
//   done   boolean: a task is ticked
//   url    string: an image's or a link's address (http or https)
//   fileId string: an uploaded image's file (GET /api/files/<fileId>), shown instead of `url`
//   color  string: a note's paper colour (one of NOTE_COLORS)
//   createdBy, createdAt
//
// Other clients may have written plain objects ({ kind: "note", text: "hello" }) or left
// fields out; those are read with defaults and turned into a Y.Map the first time this UI
// changes them.

import * as Y from "yjs";
import { isSubjectSafeId } from "@palimpsest/contracts/shared";

export type CardKind = "note" | "task" | "image" | "link";
export const CARD_KINDS: readonly CardKind[] = ["note", "task", "image", "link"];

export const NOTE_COLORS = ["yellow", "pink", "green", "blue", "purple"] as const;
export type NoteColor = (typeof NOTE_COLORS)[number];

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface CardView extends Rect {
  id: string;
  kind: CardKind;
  z: number;
  /** The editable words: a note's or task's text, an image's caption, a link's title. */
  text: string;
  done: boolean;
  url: string;
  /** An uploaded image's file id, or "". */
  fileId: string;
  color: NoteColor;
}

export const DEFAULT_SIZE: Record<CardKind, { w: number; h: number }> = {
  note: { w: 200, h: 160 },
  task: { w: 240, h: 84 },
  image: { w: 260, h: 220 },
  link: { w: 260, h: 112 },
};

export const MIN_SIZE = { w: 120, h: 64 };
const MAX_SIZE = { w: 2_000, h: 2_000 };
/** Cards live in the positive quarter-plane; the board grows to the right and down. */
const MAX_COORD = 100_000;

/** The field holding a card's editable words. */
export function textFieldOf(kind: CardKind): "text" | "title" {
  return kind === "link" ? "title" : "text";
}

type Board = Y.Map<unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldOf(card: unknown, key: string): unknown {
  if (card instanceof Y.Map) return (card as Y.Map<unknown>).get(key);
  return isRecord(card) ? card[key] : undefined;
}

function numberOf(card: unknown, key: string): number | null {
  const value = fieldOf(card, key);
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function stringOf(card: unknown, key: string): string {
  const value = fieldOf(card, key);
  if (value instanceof Y.Text) return value.toString();
  return typeof value === "string" ? value : "";
}

function kindOf(card: unknown): CardKind {
  const kind = fieldOf(card, "kind") ?? fieldOf(card, "type");
  return CARD_KINDS.includes(kind as CardKind) ? (kind as CardKind) : "note";
}

function colorOf(card: unknown): NoteColor {
  const color = fieldOf(card, "color");
  return NOTE_COLORS.includes(color as NoteColor) ? (color as NoteColor) : "yellow";
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/** Only web addresses: a board is shared, and a `javascript:` link would run in a reader's tab. */
export function safeUrl(text: string): string | null {
  try {
    const url = new URL(text.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Where a card without a position goes: a grid in order of ids, clear of the origin. */
function fallbackPosition(index: number): { x: number; y: number } {
  return { x: 40 + (index % 5) * 240, y: 40 + Math.floor(index / 5) * 200 };
}

export function readCard(id: string, value: unknown, index: number): CardView {
  const kind = kindOf(value);
  const size = DEFAULT_SIZE[kind];
  const fallback = fallbackPosition(index);
  // Cards written by other clients may only carry text, under any of these names.
  let text = stringOf(value, textFieldOf(kind));
  if (text === "" && !(value instanceof Y.Map)) {
    for (const key of ["text", "title", "content", "body"]) {
      text = stringOf(value, key);
      if (text !== "") break;
    }
  }
  const url = stringOf(value, "url") || stringOf(value, "src");
  return {
    id,
    kind,
    x: clamp(numberOf(value, "x") ?? fallback.x, 0, MAX_COORD),
    y: clamp(numberOf(value, "y") ?? fallback.y, 0, MAX_COORD),
    w: clamp(numberOf(value, "w") ?? numberOf(value, "width") ?? size.w, MIN_SIZE.w, MAX_SIZE.w),
    h: clamp(numberOf(value, "h") ?? numberOf(value, "height") ?? size.h, MIN_SIZE.h, MAX_SIZE.h),
    z: numberOf(value, "z") ?? 0,
    text,
    done: fieldOf(value, "done") === true,
    url: safeUrl(url) ?? "",
    // The ids the files API gives out; anything else in a card's `fileId` is ignored.
    fileId: isSubjectSafeId(stringOf(value, "fileId")) ? stringOf(value, "fileId") : "",
    color: colorOf(value),
  };
}

function sameCard(a: CardView, b: CardView): boolean {
  return (
    a.kind === b.kind &&
    a.x === b.x &&
    a.y === b.y &&
    a.w === b.w &&
    a.h === b.h &&
    a.z === b.z &&
    a.text === b.text &&
    a.done === b.done &&
    a.url === b.url &&
    a.fileId === b.fileId &&
    a.color === b.color
  );
}

/**
 * Every card, in a fixed order (by id): stacking is the `z` field, never the order, so
 * bringing a card to the front does not move anything in the page (moving the element that
 * holds the caret would take the caret away from someone typing). Cards that did not change
 * keep their previous object, so the UI only re-renders what changed.
 */
export function readCards(board: Board, previous: ReadonlyMap<string, CardView>): CardView[] {
  const ids = [...board.keys()].sort();
  return ids.map((id, index) => {
    const next = readCard(id, board.get(id), index);
    const before = previous.get(id);
    return before && sameCard(before, next) ? before : next;
  });
}

function topZ(board: Board): number {
  let top = 0;
  board.forEach((card) => {
    top = Math.max(top, numberOf(card, "z") ?? 0);
  });
  return top;
}

/**
 * The card as a Y.Map, turning a plain object written by another client into one first
 * (its fields kept, its texts made collaborative).
 */
function cardMap(board: Board, id: string): Y.Map<unknown> | null {
  const value = board.get(id);
  if (value instanceof Y.Map) return value as Y.Map<unknown>;
  if (value === undefined) return null;
  const view = readCard(id, value, [...board.keys()].sort().indexOf(id));
  const map = new Y.Map<unknown>();
  if (isRecord(value)) {
    for (const [key, field] of Object.entries(value)) {
      if (key !== "text" && key !== "title") map.set(key, field);
    }
  }
  map.set("kind", view.kind);
  for (const key of ["x", "y", "w", "h", "z"] as const) map.set(key, view[key]);
  map.set(textFieldOf(view.kind), new Y.Text(view.text));
  board.set(id, map);
  return map;
}

export interface NewCard {
  kind: CardKind;
  x: number;
  y: number;
  url?: string;
  /** An uploaded image's file id. */
  fileId?: string;
  text?: string;
  createdBy: string;
}

/** Adds a card on top of the others; returns its id. */
export function createCard(board: Board, card: NewCard, origin: unknown): string {
  const id = crypto.randomUUID();
  const size = DEFAULT_SIZE[card.kind];
  const doc = board.doc;
  const write = (): void => {
    const map = new Y.Map<unknown>();
    map.set("kind", card.kind);
    map.set("x", Math.round(clamp(card.x, 0, MAX_COORD)));
    map.set("y", Math.round(clamp(card.y, 0, MAX_COORD)));
    map.set("w", size.w);
    map.set("h", size.h);
    map.set("z", topZ(board) + 1);
    map.set(textFieldOf(card.kind), new Y.Text(card.text ?? ""));
    if (card.kind === "task") map.set("done", false);
    if (card.kind === "note") map.set("color", "yellow");
    if (card.url) map.set("url", card.url);
    if (card.fileId) map.set("fileId", card.fileId);
    map.set("createdBy", card.createdBy);
    map.set("createdAt", new Date().toISOString());
    board.set(id, map);
  };
  if (doc) doc.transact(write, origin);
  else write();
  return id;
}

function change(board: Board, id: string, origin: unknown, apply: (card: Y.Map<unknown>) => void): void {
  const run = (): void => {
    const card = cardMap(board, id);
    if (card) apply(card);
  };
  if (board.doc) board.doc.transact(run, origin);
  else run();
}

/** Moves and/or resizes a card and brings it to the top. */
export function placeCard(board: Board, id: string, rect: Rect, origin: unknown): void {
  change(board, id, origin, (card) => {
    const x = Math.round(clamp(rect.x, 0, MAX_COORD));
    const y = Math.round(clamp(rect.y, 0, MAX_COORD));
    const w = Math.round(clamp(rect.w, MIN_SIZE.w, MAX_SIZE.w));
    const h = Math.round(clamp(rect.h, MIN_SIZE.h, MAX_SIZE.h));
    // Only what changed is written, so a concurrent resize and move of one card both stay.
    if (card.get("x") !== x) card.set("x", x);
    if (card.get("y") !== y) card.set("y", y);
    if (card.get("w") !== w) card.set("w", w);
    if (card.get("h") !== h) card.set("h", h);
    const top = topZ(board);
    if ((numberOf(card, "z") ?? 0) < top || [...board.values()].filter((c) => numberOf(c, "z") === top).length > 1) {
      card.set("z", top + 1);
    }
  });
}

export function setDone(board: Board, id: string, done: boolean, origin: unknown): void {
  change(board, id, origin, (card) => card.set("done", done));
}

export function setUrl(board: Board, id: string, url: string, origin: unknown): void {
  change(board, id, origin, (card) => {
    card.set("url", url);
    // A new address replaces an uploaded picture.
    if (card.has("fileId")) card.delete("fileId");
  });
}

export function setColor(board: Board, id: string, color: NoteColor, origin: unknown): void {
  change(board, id, origin, (card) => card.set("color", color));
}

export function deleteCard(board: Board, id: string, origin: unknown): void {
  if (board.doc) board.doc.transact(() => board.delete(id), origin);
  else board.delete(id);
}

/** The one contiguous change that turns `before` into `after`. */
export function textEdit(before: string, after: string): { start: number; removed: number; inserted: string } {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return { start, removed: before.length - start - end, inserted: after.slice(start, after.length - end) };
}

/**
 * Replaces `text` of the card's editable field with `next` by the smallest edit (one
 * deletion and one insertion between the common beginning and end), so concurrent typing
 * elsewhere in the same text is kept.
 */
export function editText(board: Board, id: string, field: "text" | "title", previous: string, next: string, origin: unknown): void {
  change(board, id, origin, (card) => {
    let text = card.get(field);
    if (!(text instanceof Y.Text)) {
      const created = new Y.Text(typeof text === "string" ? text : "");
      card.set(field, created);
      text = created;
    }
    const shared = text as Y.Text;
    // The person edited what the textarea showed (`previous`); apply that edit, so a change
    // that arrived from someone else in between is kept rather than overwritten.
    const edit = textEdit(previous, next);
    const start = Math.min(edit.start, shared.length);
    const removed = Math.min(edit.removed, shared.length - start);
    if (removed > 0) shared.delete(start, removed);
    if (edit.inserted !== "") shared.insert(start, edit.inserted);
  });
}
