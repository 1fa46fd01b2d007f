import diff from "fast-diff";
import type { DiffSegment } from "@palimpsest/contracts";

/**
 * Text changes between two versions, each inserted or deleted run attributed to the author of
 * the edit that made it. Built by walking the stored edits in order: each edit's effect on the
 * rendered text is diffed (a real character diff, so a batched edit touching several places is
 * attributed precisely) and folded into the running list of segments. Text inserted and deleted
 * again within the range disappears; deleted original text stays, marked as deleted.
 */
export class AttributedDiff {
  private segments: DiffSegment[];

  constructor(fromText: string) {
    this.segments = fromText ? [{ kind: "same", text: fromText }] : [];
  }

  /** Folds one edit: the visible text went from `before` to `after`, by `userId`. */
  apply(before: string, after: string, userId: string): void {
    if (before === after) return;
    const out: DiffSegment[] = [];
    const queue = [...this.segments];
    // Deleted segments are invisible to the edit; they pass through in place.
    const takeVisible = (n: number, onChunk: (seg: DiffSegment, text: string) => void) => {
      while (n > 0 && queue.length > 0) {
        const seg = queue[0]!;
        if (seg.kind === "delete") {
          out.push(queue.shift()!);
          continue;
        }
        const take = Math.min(n, seg.text.length);
        onChunk(seg, seg.text.slice(0, take));
        if (take === seg.text.length) queue.shift();
        else queue[0] = { ...seg, text: seg.text.slice(take) };
        n -= take;
      }
    };
    for (const [op, text] of diff(before, after)) {
      if (op === diff.EQUAL) {
        takeVisible(text.length, (seg, chunk) => out.push({ ...seg, text: chunk }));
      } else if (op === diff.INSERT) {
        out.push({ kind: "insert", text, userId });
      } else {
        takeVisible(text.length, (seg, chunk) => {
          // Removing text inserted within the range leaves nothing; removing original text marks it.
          if (seg.kind === "same") out.push({ kind: "delete", text: chunk, userId });
        });
      }
    }
    out.push(...queue);
    this.segments = merge(out);
  }

  result(): DiffSegment[] {
    return this.segments;
  }
}

function merge(segments: DiffSegment[]): DiffSegment[] {
  const out: DiffSegment[] = [];
  for (const s of segments) {
    if (s.text.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last.kind === s.kind && last.userId === s.userId) last.text += s.text;
    else out.push({ ...s });
  }
  return out;
}
