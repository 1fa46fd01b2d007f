import { describe, expect, it } from "vitest";
import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from "kysely";
import type { JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { EditHeaders, GENESIS_HASH, chainHash } from "@palimpsest/contracts";
import { applyEditBatch, chainEdits, editsOfBatch, newestRows, type EditHead } from "../src/edit-log-projection.ts";
import type { HistoryDb } from "../src/schema.ts";

/**
 * A database that runs nothing: it records each statement and answers the head lookup with
 * `heads`, so the projection's statements can be compared without Postgres.
 */
function recordingDb(heads: { doc_id: string; seq: number; hash: string }[]): { db: Kysely<HistoryDb>; statements: { sql: string; parameters: readonly unknown[] }[] } {
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];
  const connection: DatabaseConnection = {
    async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
      if (/^(begin|commit|rollback)/i.test(q.sql)) return { rows: [] };
      statements.push({ sql: q.sql, parameters: q.parameters });
      return { rows: (q.sql.includes("from unnest") ? heads : []) as R[] };
    },
    // eslint-disable-next-line require-yield
    async *streamQuery() {
      throw new Error("not used");
    },
  };
  const driver: Driver = {
    init: async () => undefined,
    acquireConnection: async () => connection,
    beginTransaction: async () => undefined,
    commitTransaction: async () => undefined,
    rollbackTransaction: async () => undefined,
    releaseConnection: async () => undefined,
    destroy: async () => undefined,
  };
  const db = new Kysely<HistoryDb>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  return { db, statements };
}

function editMsg(subject: string, seq: number, data: number[], hdrs: Record<string, string> | undefined, timestampNanos: number): JsMsg {
  let headers;
  if (hdrs) {
    headers = natsHeaders();
    for (const [k, v] of Object.entries(hdrs)) headers.set(k, v);
  }
  return { subject, seq, data: new Uint8Array(data), headers, info: { timestampNanos } } as unknown as JsMsg;
}

describe("the edit-log projection's batch", () => {
  it("stores the rows, hashes and heads it always has (pinned against the code before the edit codec)", async () => {
    // Given one document with a head and one without, and edits with full, partial and no headers
    const { db, statements } = recordingDb([{ doc_id: "doc-a", seq: 4, hash: "ab".repeat(32) }]);
    const msgs = [
      editMsg("edits.doc-a", 100, [1, 2], { [EditHeaders.author]: "u1", [EditHeaders.client]: "c1", [EditHeaders.time]: "2025-01-02T03:04:05.678Z", [EditHeaders.replica]: "r1" }, 1_735_787_045_700_000_000),
      editMsg("edits.doc-b", 101, [3], { [EditHeaders.author]: "u2" }, 1_700_000_000_123_456_768),
      editMsg("edits.doc-a", 102, [4, 5, 6], undefined, 1_700_000_001_999_999_744),
      editMsg("edits.not.a.doc", 103, [7], undefined, 1_700_000_002_000_000_000),
    ];

    // When the batch is applied
    await db.transaction().execute((trx) => applyEditBatch(trx, msgs));

    // Then the statements are exactly these
    expect(statements).toMatchInlineSnapshot(`
      [
        {
          "parameters": [
            [
              "doc-a",
              "doc-b",
            ],
          ],
          "sql": "
          select d.doc_id, e.seq, e.hash, e.stream_seq
          from unnest($1::text[]) as d(doc_id)
          cross join lateral (
            select seq, hash, stream_seq from edit_log where edit_log.doc_id = d.doc_id order by seq desc limit 1
          ) e",
        },
        {
          "parameters": [
            "doc-a",
            5,
            100,
            2025-01-02T03:04:05.678Z,
            "2025-01-02T03:04:05.678Z",
            "u1",
            "c1",
            2,
            "abababababababababababababababababababababababababababababababab",
            "6670176d206b51118cd6ab5668928171638e2fd0356671cf1f5be550b23fa014",
            Uint8Array [
              1,
              2,
            ],
            null,
            null,
            "doc-b",
            1,
            101,
            2023-11-14T22:13:20.123Z,
            "2023-11-14T22:13:20.123Z",
            "u2",
            "",
            1,
            "0000000000000000000000000000000000000000000000000000000000000000",
            "aa811a9868f6f3e4556ba340e17c7de359820a0ca3ee8471c904b77622a5ba18",
            Uint8Array [
              3,
            ],
            null,
            null,
            "doc-a",
            6,
            102,
            2023-11-14T22:13:21.999Z,
            "2023-11-14T22:13:21.999Z",
            "",
            "",
            3,
            "6670176d206b51118cd6ab5668928171638e2fd0356671cf1f5be550b23fa014",
            "a9d92ae215d86a6448c4088f1ae0498ec1e53e1d5ece6d53d41826873d788ba5",
            Uint8Array [
              4,
              5,
              6,
            ],
            null,
            null,
          ],
          "sql": "insert into "edit_log" ("doc_id", "seq", "stream_seq", "at", "at_text", "user_id", "client_id", "size", "prev_hash", "hash", "update", "via_token_id", "via_name") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13), ($14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26), ($27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39) on conflict ("stream_seq") do nothing",
        },
        {
          "parameters": [
            "doc-a",
            6,
            102,
            2023-11-14T22:13:21.999Z,
            "doc-b",
            1,
            101,
            2023-11-14T22:13:20.123Z,
          ],
          "sql": "insert into "doc_heads" ("doc_id", "seq", "stream_seq", "last_at") values ($1, $2, $3, $4), ($5, $6, $7, $8) on conflict ("doc_id") do update set "seq" = "excluded"."seq", "stream_seq" = "excluded"."stream_seq", "last_at" = "excluded"."last_at" where "doc_heads"."seq" < "excluded"."seq"",
        },
      ]
    `);
  });
});

const TIME = "2025-01-02T03:04:05.678Z";
const NANOS = 1_735_787_045_700_000_000;
const stamped = (author: string) => ({ [EditHeaders.author]: author, [EditHeaders.client]: `${author}-conn`, [EditHeaders.time]: TIME, [EditHeaders.replica]: "r1" });

describe("chaining a batch of edits", () => {
  it("skips messages that are not on a document's edit subject", () => {
    // Given a batch with edits and stray subjects
    const msgs = [editMsg("edits.d1", 1, [1], undefined, NANOS), editMsg("edits.d1.x", 2, [1], undefined, NANOS), editMsg("docs.evt.d1", 3, [1], undefined, NANOS)];
    // When its edits are picked out
    // Then only the document edit is kept, with its document id
    expect(editsOfBatch(msgs).map((e) => [e.docId, e.m.seq])).toEqual([["d1", 1]]);
  });

  it("starts a document without a head at version 1, chained on genesis", () => {
    // Given an edit of a document with no log yet
    const edits = editsOfBatch([editMsg("edits.new", 9, [7, 7], stamped("u1"), NANOS)]);
    // When it is chained
    const [row] = chainEdits(edits, new Map());
    // Then it is version 1, its previous hash is genesis and its hash covers the header values
    expect(row).toMatchObject({ doc_id: "new", seq: 1, stream_seq: 9, prev_hash: GENESIS_HASH, user_id: "u1", client_id: "u1-conn", at_text: TIME, size: 2 });
    expect(row!.hash).toBe(chainHash(GENESIS_HASH, { docId: "new", seq: 1, author: "u1", client: "u1-conn", time: TIME, update: new Uint8Array([7, 7]) }));
    expect(row!.at).toEqual(new Date(TIME));
  });

  it("continues each document from its own head, in stream order, however the batch interleaves them", () => {
    // Given two documents' heads and a batch that interleaves their edits
    const heads = new Map<string, EditHead>([["a", { seq: 10, hash: "aa".repeat(32) }], ["b", { seq: 3, hash: "bb".repeat(32) }]]);
    const edits = editsOfBatch([
      editMsg("edits.a", 50, [1], stamped("u1"), NANOS),
      editMsg("edits.b", 51, [2], stamped("u2"), NANOS),
      editMsg("edits.a", 52, [3], stamped("u1"), NANOS),
    ]);
    // When the batch is chained
    const rows = chainEdits(edits, heads);
    // Then each document's versions follow on from its head and each row links to the one before
    expect(rows.map((r) => [r.doc_id, r.seq, r.stream_seq])).toEqual([["a", 11, 50], ["b", 4, 51], ["a", 12, 52]]);
    expect(rows[0]!.prev_hash).toBe("aa".repeat(32));
    expect(rows[1]!.prev_hash).toBe("bb".repeat(32));
    expect(rows[2]!.prev_hash).toBe(rows[0]!.hash);
    // And the heads passed in are left as they were
    expect(heads.get("a")).toEqual({ seq: 10, hash: "aa".repeat(32) });
  });

  it("given edits delivered again that the log already holds, then they take no version and the next new edit follows on from the head", () => {
    // Given a document whose log ends with the edit at stream sequence 50, as version 10
    const heads = new Map<string, EditHead>([["a", { seq: 10, hash: "aa".repeat(32), streamSeq: 50 }]]);
    // When a checkpoint that went back delivers 49 and 50 again, then a new edit
    const edits = editsOfBatch([editMsg("edits.a", 49, [1], stamped("u1"), NANOS), editMsg("edits.a", 50, [2], stamped("u1"), NANOS), editMsg("edits.a", 53, [3], stamped("u1"), NANOS)]);
    const rows = chainEdits(edits, heads);
    // Then only the new edit is logged, as version 11: no gap, and the head does not run ahead of the log
    expect(rows.map((r) => [r.seq, r.stream_seq])).toEqual([[11, 53]]);
    expect(rows[0]!.prev_hash).toBe("aa".repeat(32));
  });

  it("reads an edit without a time at the stream's timestamp, so the hash does not depend on who reads it", () => {
    // Given an edit stored without headers
    const edits = editsOfBatch([editMsg("edits.d", 5, [1], undefined, 1_700_000_000_123_456_768)]);
    // When it is chained
    const [row] = chainEdits(edits, new Map());
    // Then it is anonymous, at the stored time to the millisecond
    expect(row).toMatchObject({ user_id: "", client_id: "", at_text: "2023-11-14T22:13:20.123Z" });
  });

  it("gives the last row of each document as its new head", () => {
    const rows = chainEdits(editsOfBatch([editMsg("edits.a", 1, [1], stamped("u"), NANOS), editMsg("edits.b", 2, [1], stamped("u"), NANOS), editMsg("edits.a", 3, [1], stamped("u"), NANOS)]), new Map());
    expect(newestRows(rows).map((r) => [r.doc_id, r.seq, r.stream_seq])).toEqual([["a", 2, 3], ["b", 1, 2]]);
    expect(newestRows([])).toEqual([]);
  });

  it("stores nothing for a batch without document edits", async () => {
    const { db, statements } = recordingDb([]);
    await db.transaction().execute((trx) => applyEditBatch(trx, [editMsg("edits.a.b", 1, [1], undefined, NANOS)]));
    expect(statements).toEqual([]);
  });
});
