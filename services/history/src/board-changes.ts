import type * as Y from "yjs";
import { DocFields, diffBoards, type BoardCardChange } from "@palimpsest/contracts";

/** The card a changed type belongs to: the key, in the board map, of the card it is in (or is). */
type AnyType = Y.AbstractType<Y.YEvent<Y.AbstractType<unknown>>>;

function cardOf(type: AnyType, board: AnyType): string | undefined {
  let t: AnyType = type;
  for (;;) {
    const item = t._item;
    if (!item) return undefined;
    const parent = item.parent as AnyType;
    if (parent === board) return item.parentSub ?? undefined;
    t = parent;
  }
}

/**
 * Watches the edits of a range being applied to a document and says, card by card, what changed
 * on its board between the range's ends and who made the edits that touched each card: the
 * board's side of `GET /api/docs/:id/diff`. A card's authors are those whose edits changed
 * anything in it (its place, its words, its tick), in the order they first did. A document
 * without a board is left as it is (no board map is made in it).
 */
export class BoardChanges {
  private readonly before: unknown;
  private readonly authors = new Map<string, string[]>();
  private author = "";
  private readonly record = (tr: Y.Transaction): void => {
    const board = this.doc.share.get(DocFields.board);
    if (!board) return;
    for (const [type, keys] of tr.changed) {
      // A change to the board itself names the cards added, replaced or deleted; one inside a card, that card.
      const cards = type === board ? [...keys].filter((k): k is string => k !== null) : [cardOf(type, board)].filter((k): k is string => k !== undefined);
      for (const id of cards) {
        const list = this.authors.get(id) ?? [];
        if (!list.includes(this.author)) list.push(this.author);
        this.authors.set(id, list);
      }
    }
  };

  constructor(private readonly doc: Y.Doc) {
    this.before = doc.share.has(DocFields.board) ? doc.getMap(DocFields.board).toJSON() : {};
    doc.on("afterTransaction", this.record);
  }

  /** The next edit applied to the document is `author`'s. */
  next(author: string): void {
    this.author = author;
  }

  /** What changed on the board from the range's start to now; undefined for a document without a board. */
  result(): BoardCardChange[] | undefined {
    if (!this.doc.share.has(DocFields.board)) return undefined;
    return diffBoards(this.before, this.doc.getMap(DocFields.board).toJSON(), this.authors);
  }

  destroy(): void {
    this.doc.off("afterTransaction", this.record);
  }
}
