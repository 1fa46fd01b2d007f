/**
 * What changed on a board between two versions, card by card, as people say it: a card added,
 * deleted, moved, resized, rewritten, ticked or unticked, recoloured or pointed elsewhere. Read
 * from the `board` map's JSON at each end (what history renders), so the server computes it and
 * the web app shows it with the same words. Stacking order alone is not a change worth showing.
 */

/** A card as the history shows it: the fields a person sees. */
export interface BoardCardSummary {
  kind: string;
  /** A note's or task's words, an image's caption, a link's title. */
  text: string;
  x: number;
  y: number;
  w: number;
  h: number;
  done: boolean;
  color: string;
  url: string;
  fileId: string;
}

export type BoardCardAspect = "moved" | "resized" | "text" | "done" | "undone" | "color" | "target";

export interface BoardCardChange {
  cardId: string;
  change: "added" | "deleted" | "changed";
  /** For a changed card: what about it changed. */
  aspects: BoardCardAspect[];
  /** The card before (absent when added) and after (absent when deleted). */
  before?: BoardCardSummary;
  after?: BoardCardSummary;
  /** Who made the edits that touched the card in the range, in the order they first did. */
  authors: string[];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** A card from the board's JSON, whatever a client wrote there; fields left out read as empty. */
export function boardCardSummary(card: unknown): BoardCardSummary {
  const c = record(card);
  const kind = str(c["kind"]) || "note";
  return {
    kind,
    text: kind === "link" ? str(c["title"]) : str(c["text"]),
    x: num(c["x"]),
    y: num(c["y"]),
    w: num(c["w"]),
    h: num(c["h"]),
    done: c["done"] === true,
    color: str(c["color"]),
    url: str(c["url"]),
    fileId: str(c["fileId"]),
  };
}

function aspectsOf(a: BoardCardSummary, b: BoardCardSummary): BoardCardAspect[] {
  const aspects: BoardCardAspect[] = [];
  if (a.x !== b.x || a.y !== b.y) aspects.push("moved");
  if (a.w !== b.w || a.h !== b.h) aspects.push("resized");
  if (a.text !== b.text || a.kind !== b.kind) aspects.push("text");
  if (a.done !== b.done) aspects.push(b.done ? "done" : "undone");
  if (a.color !== b.color) aspects.push("color");
  if (a.url !== b.url || a.fileId !== b.fileId) aspects.push("target");
  return aspects;
}

/**
 * The cards' changes from `before` to `after` (each the `board` map's JSON), with the authors of
 * the edits that touched each card (`authorsByCard`; none known: empty). Ordered added, changed,
 * deleted, each by its position on the board (top to bottom, left to right), so it reads like
 * the board does.
 */
export function diffBoards(before: unknown, after: unknown, authorsByCard: ReadonlyMap<string, readonly string[]> = new Map()): BoardCardChange[] {
  const from = record(before);
  const to = record(after);
  const authorsOf = (id: string): string[] => [...(authorsByCard.get(id) ?? [])];
  const changes: BoardCardChange[] = [];
  for (const [id, card] of Object.entries(to)) {
    const now = boardCardSummary(card);
    if (!(id in from)) {
      changes.push({ cardId: id, change: "added", aspects: [], after: now, authors: authorsOf(id) });
      continue;
    }
    const was = boardCardSummary(from[id]);
    const aspects = aspectsOf(was, now);
    if (aspects.length > 0) changes.push({ cardId: id, change: "changed", aspects, before: was, after: now, authors: authorsOf(id) });
  }
  for (const [id, card] of Object.entries(from)) {
    if (!(id in to)) changes.push({ cardId: id, change: "deleted", aspects: [], before: boardCardSummary(card), authors: authorsOf(id) });
  }
  const rank = { added: 0, changed: 1, deleted: 2 } as const;
  const place = (c: BoardCardChange) => c.after ?? c.before!;
  return changes.sort((a, b) => rank[a.change] - rank[b.change] || place(a).y - place(b).y || place(a).x - place(b).x || a.cardId.localeCompare(b.cardId));
}
