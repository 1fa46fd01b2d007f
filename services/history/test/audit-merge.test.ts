import { describe, expect, it } from "vitest";
import { mergeBySeq, Peekable } from "../src/audit-merge.ts";

async function* messages(...seqs: number[]): AsyncGenerator<{ seq: number }> {
  for (const seq of seqs) yield { seq };
}

async function seqsOf(it: AsyncGenerator<{ seq: number }>): Promise<number[]> {
  const out: number[] = [];
  for await (const m of it) out.push(m.seq);
  return out;
}

describe("audit stream merge", () => {
  it("given two readers of one stream, when merged, then messages come in stream order", async () => {
    expect(await seqsOf(mergeBySeq(messages(1, 4, 5, 9), messages(2, 3, 7)))).toEqual([1, 2, 3, 4, 5, 7, 9]);
  });

  it("given only one reader, when merged, then it comes through as it is", async () => {
    expect(await seqsOf(mergeBySeq(undefined, messages(3, 8)))).toEqual([3, 8]);
    expect(await seqsOf(mergeBySeq(messages(2), undefined))).toEqual([2]);
    expect(await seqsOf(mergeBySeq(undefined, undefined))).toEqual([]);
  });

  it("given a merge left early, when it is closed, then both readers are closed", async () => {
    const closed: string[] = [];
    async function* tracked(name: string, ...seqs: number[]): AsyncGenerator<{ seq: number }> {
      try {
        for (const seq of seqs) yield { seq };
      } finally {
        closed.push(name);
      }
    }
    for await (const m of mergeBySeq(tracked("a", 1, 3), tracked("b", 2, 4))) if (m.seq === 2) break;
    expect(closed.sort()).toEqual(["a", "b"]);
  });

  it("given a peekable reader, when peeked twice and then taken, then the same head is seen until it is taken", async () => {
    const p = new Peekable(messages(1, 2));
    expect((await p.peek())?.seq).toBe(1);
    expect((await p.peek())?.seq).toBe(1);
    p.take();
    expect((await p.peek())?.seq).toBe(2);
    p.take();
    expect(await p.peek()).toBeUndefined();
    expect(await new Peekable<{ seq: number }>(undefined).peek()).toBeUndefined();
  });
});
