// A board's history: a version drawn as its cards were then (read-only, scaled to the panel),
// and what changed between two versions, card by card, with who did it: the list in words and
// the board with added, changed and deleted cards marked in their authors' colours.

import { useMemo } from "react";
import type { CSSProperties, ReactNode } from "react";
import { boardCardSummary, type BoardCardChange, type BoardCardSummary } from "@palimpsest/contracts/shared";
import type { People } from "./use-history";

const KIND_NAMES: Record<string, string> = { note: "note", task: "task", image: "image", link: "link" };
const kindName = (card: BoardCardSummary): string => KIND_NAMES[card.kind] ?? "card";
/** How many characters of a card's words a sentence quotes. */
const QUOTE_CHARS = 60;
const quote = (card: BoardCardSummary): string => {
  const text = card.text.trim().replace(/\s+/g, " ");
  if (text === "") return "";
  return ` “${text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS - 1)}…` : text}”`;
};

const ASPECT_WORDS: Record<BoardCardChange["aspects"][number], string> = {
  moved: "moved",
  resized: "resized",
  text: "rewrote",
  done: "ticked",
  undone: "unticked",
  color: "recoloured",
  target: "repointed",
};

function listed(words: string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

/** A change as a sentence: "Ann added a note “Buy milk”", "Ben moved and rewrote a task “Ship” (was “Shp”)". */
export function changeSentence(change: BoardCardChange, people: People): string {
  const who = change.authors.length > 0 ? listed(change.authors.map((a) => people.nameOf(a))) : "Someone";
  const card = change.after ?? change.before!;
  switch (change.change) {
    case "added":
      return `${who} added a ${kindName(card)}${quote(card)}`;
    case "deleted":
      return `${who} deleted a ${kindName(card)}${quote(card)}`;
    case "changed": {
      const was = change.before && change.aspects.includes("text") && change.before.text.trim() !== "" ? ` (was${quote(change.before)})` : "";
      return `${who} ${listed(change.aspects.map((a) => ASPECT_WORDS[a]))} a ${kindName(card)}${quote(card)}${was}`;
    }
  }
}

interface Placed {
  id: string;
  card: BoardCardSummary;
  mark?: "added" | "changed" | "deleted";
  author?: string;
}

const MARGIN = 24;

function BoardCanvas({ cards, people, label }: { cards: Placed[]; people: People; label: string }): ReactNode {
  const bounds = useMemo(() => {
    let w = 0;
    let h = 0;
    for (const { card } of cards) {
      w = Math.max(w, card.x + Math.max(card.w, 120));
      h = Math.max(h, card.y + Math.max(card.h, 64));
    }
    return { w: w + MARGIN, h: h + MARGIN };
  }, [cards]);
  if (cards.length === 0) return <p className="muted">No cards on the board at this version.</p>;
  return (
    <div className="board-history-frame" role="img" aria-label={label} style={{ aspectRatio: `${bounds.w} / ${bounds.h}` }}>
      <svg className="board-history-canvas" viewBox={`0 0 ${bounds.w} ${bounds.h}`} preserveAspectRatio="xMinYMin meet" aria-hidden="true">
        {cards.map(({ id, card, mark, author }) => {
          const w = Math.max(card.w, 120);
          const h = Math.max(card.h, 64);
          const style = author ? ({ "--author": people.colorOf(author) } as CSSProperties) : undefined;
          return (
            <g key={id} className={`board-history-card board-history-${card.kind}${mark ? ` board-history-${mark}` : ""}${card.color ? ` board-history-color-${card.color}` : ""}`} style={style}>
              <rect x={card.x} y={card.y} width={w} height={h} rx={6} />
              <foreignObject x={card.x + 8} y={card.y + 6} width={w - 16} height={h - 12}>
                <p className="board-history-text">
                  {card.kind === "task" ? (card.done ? "☑ " : "☐ ") : ""}
                  {card.text || (card.kind === "image" ? "(image)" : card.kind === "link" ? card.url : "")}
                </p>
              </foreignObject>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** The board as it was at a version. */
export function BoardVersionPreview({ board, people }: { board: unknown; people: People }): ReactNode {
  const cards = useMemo(() => {
    const entries = typeof board === "object" && board !== null && !Array.isArray(board) ? Object.entries(board as Record<string, unknown>) : [];
    return entries.map(([id, card]): Placed => ({ id, card: boardCardSummary(card) }));
  }, [board]);
  return (
    <div className="board-history" data-testid="board-version">
      <BoardCanvas cards={cards} people={people} label={`The board at this version: ${cards.length} card${cards.length === 1 ? "" : "s"}`} />
      <ul className="visually-hidden">
        {cards.map(({ id, card }) => (
          <li key={id}>
            A {kindName(card)}
            {quote(card)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What changed on the board between two versions: the changes in words, and where on the board. */
export function BoardDiff({ changes, people }: { changes: BoardCardChange[]; people: People }): ReactNode {
  const placed = useMemo(
    () =>
      changes.map(
        (c): Placed => ({
          id: c.cardId,
          card: c.after ?? c.before!,
          mark: c.change,
          ...(c.authors[0] ? { author: c.authors[0] } : {}),
        }),
      ),
    [changes],
  );
  if (changes.length === 0) return <p className="muted">No cards changed between these versions.</p>;
  return (
    <div className="board-history" data-testid="board-diff">
      <ul className="board-history-changes" aria-label="What changed on the board">
        {changes.map((c) => (
          <li key={c.cardId} className={`board-history-change board-history-change-${c.change}`} style={c.authors[0] ? ({ "--author": people.colorOf(c.authors[0]) } as CSSProperties) : undefined}>
            <span className="diff-swatch" aria-hidden="true" />
            {changeSentence(c, people)}
          </li>
        ))}
      </ul>
      <BoardCanvas cards={placed} people={people} label="The changed cards where they are on the board" />
    </div>
  );
}
