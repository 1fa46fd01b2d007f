import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AUDIT_CHAIN_DESCRIPTION, GENESIS_HASH, chainHash, type ChainedEdit } from "../src/index.ts";

/**
 * The edit chain is stored by the history service and recomputed by every offline verifier of an
 * audit export, so its output is a published format: these hashes must never change. The known
 * answers were checked once against `sha256sum` of the documented preimage, e.g. for the first:
 *
 *   { printf '%s\n' 000…000 doc-1 1 user-a conn-1 2026-01-01T00:00:00.000Z; printf '\x01\x02\x03'; } | sha256sum
 */

const first: ChainedEdit = { docId: "doc-1", seq: 1, author: "user-a", client: "conn-1", time: "2026-01-01T00:00:00.000Z", update: new Uint8Array([1, 2, 3]) };
const second: ChainedEdit = { docId: "doc-1", seq: 2, author: "user-b", client: "conn-2", time: "2026-01-01T00:00:01.500Z", update: new Uint8Array([0, 255, 10]) };
const third: ChainedEdit = { docId: "doc-1", seq: 3, author: "user-a", client: "conn-1", time: "2026-01-01T00:00:02.000Z", update: new Uint8Array([7]) };

const FIRST_HASH = "7d94df9d6564a973cd97d7333924971f84d0b18d6cb3a186a284f491700a87b7";
const SECOND_HASH = "be5cdc72b9e64c1208e8e260146079c79808856dfdc5742a0c33d16009da831e";

/** The hashes of a log, each over the one before, as the history service stores them. */
function chain(edits: readonly ChainedEdit[]): string[] {
  const hashes: string[] = [];
  let previous = GENESIS_HASH;
  for (const e of edits) {
    previous = chainHash(previous, e);
    hashes.push(previous);
  }
  return hashes;
}

/** What a verifier does: the index of the first edit whose stored hash does not follow, or -1. */
function firstBreak(edits: readonly ChainedEdit[], stored: readonly string[]): number {
  let previous = GENESIS_HASH;
  for (const [i, e] of edits.entries()) {
    if (e.seq !== i + 1 || stored[i] !== chainHash(previous, e)) return i;
    previous = stored[i];
  }
  return edits.length === stored.length ? -1 : edits.length;
}

describe("edit chain hash", () => {
  it("starts from 64 zeros, the genesis named in every audit export's header", () => {
    expect(GENESIS_HASH).toBe("0".repeat(64));
    expect(AUDIT_CHAIN_DESCRIPTION.genesis).toBe(GENESIS_HASH);
  });

  it("gives the known answers for a fixed log", () => {
    expect(chain([first, second])).toEqual([FIRST_HASH, SECOND_HASH]);
  });

  it("is sha256 of the documented preimage, with the update's raw bytes last", () => {
    const preimage = (prev: string, e: ChainedEdit) =>
      Buffer.concat([Buffer.from(`${prev}\n${e.docId}\n${e.seq}\n${e.author}\n${e.client}\n${e.time}\n`, "utf8"), e.update]);
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    expect(sha(preimage(GENESIS_HASH, first))).toBe(FIRST_HASH);
    expect(sha(preimage(FIRST_HASH, second))).toBe(SECOND_HASH);
  });

  it("covers an empty update too", () => {
    expect(chainHash(GENESIS_HASH, { ...first, update: new Uint8Array() })).toBe("238990115aff3be9691c12b566814812ef9a2c7d51aab9c02c1d7d7c0a9b0bb1");
  });

  it("hashes the time as the exact text stored, not as a parsed instant", () => {
    expect(chainHash(GENESIS_HASH, { ...first, time: "2026-01-01T00:00:00Z" })).not.toBe(FIRST_HASH);
  });

  it("changes with every covered field", () => {
    const variants: ChainedEdit[] = [
      { ...first, docId: "doc-2" },
      { ...first, seq: 2 },
      { ...first, author: "user-b" },
      { ...first, client: "conn-2" },
      { ...first, time: "2026-01-01T00:00:00.001Z" },
      { ...first, update: new Uint8Array([1, 2, 4]) },
      { ...first, update: new Uint8Array([1, 2, 3, 0]) },
    ];
    const hashes = variants.map((v) => chainHash(GENESIS_HASH, v));
    expect(new Set([FIRST_HASH, ...hashes]).size).toBe(variants.length + 1);
    expect(chainHash(SECOND_HASH, first)).not.toBe(FIRST_HASH);
  });

  it("depends on order: the same edits in another order end at another head", () => {
    const swapped = [{ ...second, seq: 1 }, { ...first, seq: 2 }];
    expect(chain(swapped).at(-1)).not.toBe(SECOND_HASH);
  });

  it("exposes tampering at the edit tampered with: a changed byte, a removed, inserted or reordered edit", () => {
    const log = [first, second, third];
    const stored = chain(log);
    expect(firstBreak(log, stored)).toBe(-1);

    const changed = [first, { ...second, update: new Uint8Array([0, 255, 11]) }, third];
    expect(firstBreak(changed, stored)).toBe(1);

    // Removing the second edit and renumbering the rest still breaks the link into the third.
    const removed = [first, { ...third, seq: 2 }];
    expect(firstBreak(removed, [stored[0]!, stored[2]!])).toBe(1);

    const inserted = [first, { ...second, seq: 2, author: "user-x" }, { ...second, seq: 3 }, { ...third, seq: 4 }];
    expect(firstBreak(inserted, [stored[0]!, chainHash(stored[0]!, inserted[1]!), stored[1]!, stored[2]!])).toBe(2);

    const reordered = [first, { ...third, seq: 2 }, { ...second, seq: 3 }];
    expect(firstBreak(reordered, [stored[0]!, stored[2]!, stored[1]!])).toBe(1);

    expect(firstBreak([first, second], stored)).toBe(2);
  });

  it("a rewrite cannot hide: recomputing every hash after a change moves the head", () => {
    const rewritten = chain([first, { ...second, author: "user-x" }, third]);
    expect(rewritten[0]).toBe(FIRST_HASH);
    expect(rewritten[2]).not.toBe(chain([first, second, third])[2]);
  });
});

describe("edits made through an API token", () => {
  const via = { tokenId: "tok-1", name: "Release bot ✓\nv2" };

  it("given an edit without a token, when hashed, then the hash is as it always was (old trails still verify)", () => {
    expect(chainHash(GENESIS_HASH, { ...first, via: undefined })).toBe(FIRST_HASH);
  });

  it("given an edit through a token, when hashed, then the token is covered by the documented v2 preimage", () => {
    const withVia = chainHash(GENESIS_HASH, { ...first, via });
    const preimage = Buffer.concat([
      Buffer.from(`v2\n${GENESIS_HASH}\ndoc-1\n1\nuser-a\nconn-1\n2026-01-01T00:00:00.000Z\ntok-1\n${encodeURIComponent(via.name)}\n`),
      Buffer.from(first.update),
    ]);
    expect(withVia).toBe(createHash("sha256").update(preimage).digest("hex"));
    expect(withVia).not.toBe(FIRST_HASH);
  });

  it("given a token's edit, when its attribution is changed or removed, then the hash no longer matches", () => {
    const h = chainHash(GENESIS_HASH, { ...first, via });
    expect(chainHash(GENESIS_HASH, { ...first, via: { ...via, name: "Someone else" } })).not.toBe(h);
    expect(chainHash(GENESIS_HASH, { ...first, via: { ...via, tokenId: "tok-2" } })).not.toBe(h);
    expect(chainHash(GENESIS_HASH, first)).not.toBe(h);
  });
});
