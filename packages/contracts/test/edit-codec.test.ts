import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EditHeaders, editMessageId, readEditHeaders, writeEditHeaders } from "../src/index.ts";

/** Headers as NATS keeps them for this purpose: names in the order they were set. */
class Headers {
  readonly entries: [string, string][] = [];
  set(name: string, value: string): void {
    this.entries.push([name, value]);
  }
  get(name: string): string {
    return this.entries.find(([n]) => n === name)?.[1] ?? "";
  }
}

const AT = new Date("2025-03-04T05:06:07.089Z");
const STORED_AT_NANOS = 1_700_000_000_123_456_768;

describe("edit codec", () => {
  describe("writing headers", () => {
    it("writes author, client, time and replica, in that order", () => {
      // Given an edit's origin and time
      const h = new Headers();
      // When its headers are written
      writeEditHeaders(h, { author: "user-1", client: "conn-9", replica: "replica-7" }, AT);
      // Then they are the stored format, names and order included
      expect(h.entries).toEqual([
        ["Collab-Author", "user-1"],
        ["Collab-Client", "conn-9"],
        ["Collab-Time", "2025-03-04T05:06:07.089Z"],
        ["Collab-Replica", "replica-7"],
      ]);
    });

    it("stamps the current time when none is given", () => {
      const before = Date.now();
      const h = new Headers();
      writeEditHeaders(h, { author: "a", client: "c", replica: "r" });
      const written = Date.parse(h.get(EditHeaders.time));
      expect(written).toBeGreaterThanOrEqual(before);
      expect(written).toBeLessThanOrEqual(Date.now());
    });
  });

  describe("reading headers", () => {
    it("reads back what was written", () => {
      // Given headers written by the codec
      const h = new Headers();
      const origin = { author: "user-1", client: "restore:5b1f", replica: "history" };
      writeEditHeaders(h, origin, AT);
      // When they are read, with any stream timestamp
      const stamp = readEditHeaders(h, STORED_AT_NANOS);
      // Then the origin and the written time come back, not the stream's time
      expect(stamp).toEqual({ ...origin, time: "2025-03-04T05:06:07.089Z" });
    });

    it("takes the stream's timestamp, to the millisecond, for an edit stored without a time", () => {
      // Given an edit with an author but no time
      const h = new Headers();
      h.set(EditHeaders.author, "user-1");
      // When it is read
      const stamp = readEditHeaders(h, STORED_AT_NANOS);
      // Then its time is the stored timestamp, sub-millisecond part dropped
      expect(stamp).toEqual({ author: "user-1", client: "", replica: "", time: "2023-11-14T22:13:20.123Z" });
    });

    it("reads an edit with no headers at all as anonymous, at its stream timestamp", () => {
      expect(readEditHeaders(undefined, 1_700_000_001_999_999_744)).toEqual({ author: "", client: "", replica: "", time: "2023-11-14T22:13:21.999Z" });
    });

    it("reads a missing header from a fetch-style Headers (null) as empty", () => {
      const fetchStyle = { get: (name: string) => (name === EditHeaders.time ? "2025-01-01T00:00:00.000Z" : null) };
      expect(readEditHeaders(fetchStyle, 0)).toEqual({ author: "", client: "", replica: "", time: "2025-01-01T00:00:00.000Z" });
    });
  });

  describe("message id", () => {
    it("is the id every stored edit was deduplicated on", () => {
      // Given a fixed document and update
      const update = new Uint8Array([1, 2, 3, 250, 0, 7]);
      // When its message id is computed
      // Then it is exactly the id the sync service has always used: a drift would store retries twice
      expect(editMessageId("doc_A-1", update)).toBe("l7Vou2bpWxj7hSHzk5Kk0L1lTjltkKsHAzoDgTyu0yY");
      expect(editMessageId("doc_A-1", new Uint8Array())).toBe(createHash("sha256").update("doc_A-1:").digest("base64url"));
    });

    it("is base64url(sha256(docId ':' update)) for updates of any length", () => {
      for (const n of [0, 1, 64, 1000, 70_000]) {
        const update = new Uint8Array(randomBytes(n));
        const expected = createHash("sha256").update("doc-x").update(":").update(update).digest("base64url");
        expect(editMessageId("doc-x", update), `${n} bytes`).toBe(expected);
      }
    });

    it("differs between documents for the same bytes", () => {
      const update = new Uint8Array([9, 9, 9]);
      expect(editMessageId("doc-a", update)).not.toBe(editMessageId("doc-b", update));
    });
  });
});

describe("an edit's API token", () => {
  it("given an edit made through a token, when its headers are written and read, then the token's id and name come back, the name safely encoded", () => {
    const h = new Map<string, string>();
    writeEditHeaders({ set: (k, v) => h.set(k, v) }, { author: "u", client: "c", replica: "r", via: { tokenId: "tok-1", name: "Bot: «nightly»\n" } });
    expect(h.get(EditHeaders.viaName)).toMatch(/^[\x21-\x7e]+$/);
    expect(readEditHeaders({ get: (k) => h.get(k) }, 0).via).toEqual({ tokenId: "tok-1", name: "Bot: «nightly»\n" });
  });

  it("given an edit without a token (a person's, or one stored before tokens), when read, then it has no via", () => {
    const h = new Map<string, string>();
    writeEditHeaders({ set: (k, v) => h.set(k, v) }, { author: "u", client: "c", replica: "r" });
    expect([...h.keys()]).toEqual([EditHeaders.author, EditHeaders.client, EditHeaders.time, EditHeaders.replica]);
    expect(readEditHeaders({ get: (k) => h.get(k) }, 0)).not.toHaveProperty("via");
  });
});
