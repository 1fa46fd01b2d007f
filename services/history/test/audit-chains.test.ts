import { describe, expect, it } from "vitest";
import type { JsMsg } from "@nats-io/jetstream";
import { GENESIS_HASH, eventChainHash } from "@palimpsest/contracts";
import { eventLine, MismatchError } from "../src/audit-chains.ts";
import type { Cursor } from "../src/audit-cursor.ts";

const cursor: Cursor = {
  v: 1,
  docId: "doc-1",
  editCount: 0,
  editBound: 0,
  editLast: 0,
  eventBound: 5,
  fileBound: 0,
  edit: { next: 1, seq: 0, hash: GENESIS_HASH },
  event: { next: 4, seq: 1, hash: GENESIS_HASH },
  skip: 0,
  cpNext: 0,
  cpLast: -1,
};

const stored = (seq: number, body: () => unknown) => ({ seq, json: body }) as unknown as JsMsg;

describe("audit event chain", () => {
  it("given a stored event, when its line is made, then it carries the next seq and the chained hash", () => {
    const event = { type: "DocumentRenamed", at: "2026-01-01T00:00:00.000Z", title: "t" };
    const line = eventLine("doc-1", cursor, stored(4, () => event));
    expect(line).toEqual({
      type: "event",
      seq: 2,
      streamSeq: 4,
      event,
      prevHash: GENESIS_HASH,
      hash: eventChainHash(GENESIS_HASH, { docId: "doc-1", seq: 2, event }),
    });
  });

  it("given a stored event that is not a JSON object, when its line is made, then a MALFORMED_EVENT error line ends the trail", () => {
    for (const body of [() => [1, 2], () => null, () => { throw new SyntaxError("bad json"); }]) {
      let thrown: unknown;
      try {
        eventLine("doc-1", cursor, stored(4, body));
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(MismatchError);
      expect((thrown as MismatchError).line).toMatchObject({ type: "error", code: "MALFORMED_EVENT", chain: "event", seq: 2, streamSeq: 4 });
    }
  });
});
