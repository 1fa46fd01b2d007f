import { AppError } from "@palimpsest/contracts";

/**
 * The audit export's cursor: the bounds fixed when the export began and both chains' state, so
 * each page carries on where the last stopped without the server keeping anything between calls.
 */

export interface ChainState {
  /** The stream sequence to read from next. */
  next: number;
  /** The chain's last seq and hash. */
  seq: number;
  hash: string;
}

export interface Cursor {
  v: 1;
  docId: string;
  /** Edits: the log's head when the export began, and the stream position of its last edit. */
  editCount: number;
  editBound: number;
  /** The last stored message on `edits.<doc>` when the export began (so a consumer opened from `next` has something to deliver). */
  editLast: number;
  /** The last stored message on `docs.evt.<doc>` and on `docs.file.<doc>` when the export began. */
  eventBound: number;
  fileBound: number;
  edit: ChainState;
  event: ChainState;
  /** Characters of the next line already sent (a line longer than a page spans pages). */
  skip: number;
  /** The least edit seq whose checkpoint line is still to come (it follows that edit's line, or the header for 0). */
  cpNext: number;
  /** The edit seq of the last checkpoint line sent (-1: none yet); the export signs its end unless it is the last edit. */
  cpLast: number;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isChain = (v: unknown): v is ChainState => {
  const c = v as Partial<ChainState> | null;
  return typeof c === "object" && c !== null && isCount(c.next) && isCount(c.seq) && typeof c.hash === "string" && /^[0-9a-f]{64}$/.test(c.hash);
};

export const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString("base64url");
export function decodeCursor(text: string, docId: string): Cursor {
  let c: Partial<Cursor> | null = null;
  try {
    c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<Cursor> | null;
  } catch {
    // reported below
  }
  const valid =
    typeof c === "object" && c !== null && c.v === 1 && typeof c.docId === "string" &&
    [c.editCount, c.editBound, c.editLast, c.eventBound, c.fileBound, c.skip].every(isCount) && isChain(c.edit) && isChain(c.event);
  if (!valid || c === null) throw new AppError("VALIDATION_FAILED", "cursor is not valid");
  // A page begun by a release without checkpoints (version 1 header) continues without them.
  const legacy = !isCount(c.cpNext);
  const cursor = { ...c, cpNext: legacy ? Number.MAX_SAFE_INTEGER : c.cpNext, cpLast: legacy ? Number.MAX_SAFE_INTEGER : Number.isSafeInteger(c.cpLast) ? c.cpLast : -1 } as Cursor;
  if (cursor.docId !== docId) throw new AppError("VALIDATION_FAILED", "cursor belongs to another document");
  return cursor;
}
