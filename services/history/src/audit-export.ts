import type { Kysely } from "kysely";
import type { NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import {
  AUDIT_CHAIN_DESCRIPTION,
  AUDIT_FORMAT,
  AUDIT_VERSION,
  AppError,
  AuditPageInput,
  GENESIS_HASH,
  Streams,
  auditOrderKey,
  chainHash,
  eventChainHash,
  parse,
  readEditHeaders,
  subjects,
  type AuditEditLine,
  type AuditEndLine,
  type AuditErrorLine,
  type AuditEventLine,
  type AuditHeader,
  type AuditPage,
} from "@palimpsest/contracts";
import { requireCaller, requireDocRole, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { HistoryDb } from "./schema.ts";

/**
 * `rpc.history.audit`: a document's audit trail (format in contracts/src/audit.ts), one page per
 * call so no reply passes the NATS max payload and nothing holds the whole trail in memory.
 *
 * The edit bytes live only in the EDITS stream: each page reads them with an ordered consumer from
 * where the previous page stopped, recomputes the hash chain and checks every edit against the
 * stored edit log (stream sequence, author, client, time, size, prev_hash, hash). The metadata
 * events come from the DOCS stream (the document's own subject and its file events' subject, merged
 * in stream order) and get their own chain, computed here. Where the log and the
 * stream disagree, the page ends with an error line and the export stops.
 *
 * The export covers what existed when it began: edits up to the edit log's head then (an edit the
 * projection has not reached yet is left for a later export) and events up to the DOCS stream's
 * last one for the document. The cursor carries the bounds and both chains' state.
 */

interface ChainState {
  /** The stream sequence to read from next. */
  next: number;
  /** The chain's last seq and hash. */
  seq: number;
  hash: string;
}

interface Cursor {
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
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isChain = (v: unknown): v is ChainState => {
  const c = v as Partial<ChainState> | null;
  return typeof c === "object" && c !== null && isCount(c.next) && isCount(c.seq) && typeof c.hash === "string" && /^[0-9a-f]{64}$/.test(c.hash);
};

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString("base64url");
function decodeCursor(text: string, docId: string): Cursor {
  let c: Partial<Cursor> | null = null;
  try {
    c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<Cursor> | null;
  } catch {
    // reported below
  }
  const valid =
    typeof c === "object" && c !== null && c.v === 1 && typeof c.docId === "string" &&
    [c.editCount, c.editBound, c.editLast, c.eventBound, c.fileBound, c.skip].every(isCount) && isChain(c.edit) && isChain(c.event);
  if (!valid) throw new AppError("VALIDATION_FAILED", "cursor is not valid");
  const cursor = c as Cursor;
  if (cursor.docId !== docId) throw new AppError("VALIDATION_FAILED", "cursor belongs to another document");
  return cursor;
}

/** Reply bytes a piece of the chunk costs: UTF-8, plus one for each character JSON escapes (lines are JSON already, so only quotes, backslashes and the newline). */
function replyBytes(s: string): number {
  let escapes = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) escapes++;
  for (let i = s.indexOf("\\"); i !== -1; i = s.indexOf("\\", i + 1)) escapes++;
  for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) escapes++;
  return Buffer.byteLength(s) + escapes;
}

/** The longest prefix of `s` costing at most `room`, never splitting a surrogate pair. */
function prefixWithin(s: string, room: number): string {
  let n = Math.min(s.length, room);
  for (let cost = replyBytes(s.slice(0, n)); cost > room && n > 1; cost = replyBytes(s.slice(0, n))) n = Math.max(1, Math.floor((n * room) / cost) - 1);
  const code = s.charCodeAt(n - 1);
  if (n > 1 && n < s.length && code >= 0xd800 && code <= 0xdbff) n--;
  return s.slice(0, n);
}

/** A stream subject's messages from `from` through `bound`, in order; the caller knows at least one exists from `from` on. */
async function* readSubject(js: JetStreamClient, stream: string, subject: string, from: number, bound: number, maxMessages: number): AsyncGenerator<JsMsg> {
  const consumer = await js.consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
  const messages = await consumer.consume({ max_messages: maxMessages });
  // Should the stream lose messages while we read, stop rather than wait for ever.
  let lastSeen = performance.now();
  const watchdog = setInterval(() => {
    if (performance.now() - lastSeen > 10_000) void messages.stop();
  }, 1_000);
  try {
    for await (const m of messages) {
      lastSeen = performance.now();
      if (m.seq > bound) break;
      yield m;
      if (m.seq >= bound || m.info.pending === 0) break;
      lastSeen = performance.now();
    }
  } finally {
    clearInterval(watchdog);
    messages.stop();
  }
}

/** Two readers of one stream as one, in stream order: the document's events and its file events form one chain. */
async function* mergeBySeq(a: AsyncGenerator<JsMsg> | undefined, b: AsyncGenerator<JsMsg> | undefined): AsyncGenerator<JsMsg> {
  if (!a || !b) {
    const only = a ?? b;
    if (only) yield* only;
    return;
  }
  try {
    let x = await a.next();
    let y = await b.next();
    while (!x.done || !y.done) {
      if (!x.done && (y.done || x.value.seq < y.value.seq)) {
        yield x.value;
        x = await a.next();
      } else if (!y.done) {
        yield y.value;
        y = await b.next();
      }
    }
  } finally {
    await a.return(undefined);
    await b.return(undefined);
  }
}

class Peekable<T> {
  private head: IteratorResult<T> | undefined;
  constructor(private readonly it: AsyncIterator<T> | undefined) {}
  async peek(): Promise<T | undefined> {
    if (!this.it) return undefined;
    this.head ??= await this.it.next();
    return this.head.done ? undefined : this.head.value;
  }
  take(): void {
    this.head = undefined;
  }
  async close(): Promise<void> {
    await this.it?.return?.(undefined);
  }
}

type LogRow = Pick<HistoryDb["edit_log"], "seq" | "stream_seq" | "at_text" | "user_id" | "client_id" | "size" | "prev_hash" | "hash">;

class MismatchError extends Error {
  constructor(readonly line: AuditErrorLine) {
    super(line.message);
  }
}

export interface AuditExportOptions {
  /** Largest reply; defaults to half the server's max payload, at most 4 MiB. */
  pageBytes?: number;
  /** A page stops early after this long, so each reply comes well inside the gateway's timeout. */
  pageMillis?: number;
}

export function createAuditExport(db: Kysely<HistoryDb>, nc: NatsConnection, js: JetStreamClient, opts: AuditExportOptions = {}) {
  let jsm: Promise<JetStreamManager> | undefined;
  const manager = () => (jsm ??= jetstreamManager(nc));
  const pageMillis = opts.pageMillis ?? 1_500;
  const defaultPageBytes = () => opts.pageBytes ?? Math.min(4 * 1024 * 1024, Math.floor((nc.info?.max_payload ?? 1024 * 1024) / 2));

  async function requireAccess(docId: string, userId: string, requestId: string): Promise<void> {
    await requireDocRole(nc, { docId, userId, requestId });
  }

  async function lastOnSubject(stream: string, subject: string): Promise<number> {
    const m = await (await manager()).streams.getMessage(stream, { last_by_subj: subject });
    return m?.seq ?? 0;
  }

  async function begin(docId: string): Promise<{ cursor: Cursor; header: AuditHeader }> {
    // The events' bound first: an event stored after it is left out, never half-counted.
    const [head, editLast, eventBound, fileBound] = await Promise.all([
      db.selectFrom("edit_log").select(["seq", "stream_seq"]).where("doc_id", "=", docId).orderBy("seq", "desc").limit(1).executeTakeFirst(),
      lastOnSubject(Streams.edits, subjects.edits(docId)),
      lastOnSubject(Streams.docs, subjects.docEvents(docId)),
      lastOnSubject(Streams.docs, subjects.fileEvents(docId)),
    ]);
    const cursor: Cursor = {
      v: 1,
      docId,
      editCount: Number(head?.seq ?? 0),
      editBound: Number(head?.stream_seq ?? 0),
      editLast,
      eventBound,
      fileBound,
      edit: { next: 1, seq: 0, hash: GENESIS_HASH },
      event: { next: 1, seq: 0, hash: GENESIS_HASH },
      skip: 0,
    };
    const header: AuditHeader = {
      type: "header",
      format: AUDIT_FORMAT,
      version: AUDIT_VERSION,
      docId,
      exportedAt: new Date().toISOString(),
      chains: AUDIT_CHAIN_DESCRIPTION,
      source: {
        edits: { stream: Streams.edits, subject: subjects.edits(docId) },
        events: { stream: Streams.docs, subject: subjects.docEvents(docId), fileSubject: subjects.fileEvents(docId) },
      },
    };
    return { cursor, header };
  }

  /**
   * How many edits to fetch ahead: about a page's worth, judged by the largest of the next edits
   * in the stored log, so a run of big edits is not pulled by the hundred and small ones not one by one.
   */
  async function prefetchFor(docId: string, afterSeq: number, budget: number): Promise<number> {
    const r = await db
      .selectFrom("edit_log")
      .select((eb) => eb.fn.max("size").as("largest"))
      .where("doc_id", "=", docId)
      .where("seq", ">", afterSeq)
      .where("seq", "<=", afterSeq + 1_000)
      .executeTakeFirst();
    // A line costs about 4/3 of the bytes plus ~400 of fields and hashes.
    return Math.max(1, Math.min(1_000, Math.floor(budget / ((Number(r?.largest ?? 0) * 4) / 3 + 400))));
  }

  /** Loads the stored log a slice at a time, as the export reaches it. */
  function logReader(docId: string, after: number) {
    const rows = new Map<number, LogRow>();
    let loadedThrough = after;
    return async (seq: number): Promise<LogRow | undefined> => {
      if (seq > loadedThrough) {
        rows.clear();
        const batch = await db
          .selectFrom("edit_log")
          .select(["seq", "stream_seq", "at_text", "user_id", "client_id", "size", "prev_hash", "hash"])
          .where("doc_id", "=", docId)
          .where("seq", ">=", seq)
          .where("seq", "<", seq + 2_000)
          .execute();
        for (const r of batch) rows.set(Number(r.seq), r);
        loadedThrough = seq + 1_999;
      }
      return rows.get(seq);
    };
  }

  function editLine(docId: string, c: Cursor, m: JsMsg, row: LogRow | undefined): AuditEditLine {
    const seq = c.edit.seq + 1;
    // Read as the edit-log projection read it when it hashed the edit.
    const { author, client, time } = readEditHeaders(m.headers, m.info.timestampNanos);
    const hash = chainHash(c.edit.hash, { docId, seq, author, client, time, update: m.data });
    const fail = (message: string): never => {
      throw new MismatchError({ type: "error", code: "CHAIN_MISMATCH", chain: "edit", seq, streamSeq: m.seq, message });
    };
    if (seq > c.editCount || !row) fail(`the stream holds an edit (stream seq ${m.seq}) that the stored edit log does not have as seq ${seq}`);
    else if (Number(row.stream_seq) < m.seq) fail(`edit seq ${seq} (stream seq ${row.stream_seq}) is in the stored edit log but missing from the stream`);
    else if (Number(row.stream_seq) > m.seq) fail(`the stream holds an edit (stream seq ${m.seq}) that the stored edit log does not have; it has seq ${seq} at stream seq ${row.stream_seq}`);
    else {
      const differs = [
        row.prev_hash !== c.edit.hash && "prev_hash",
        row.hash !== hash && "hash",
        row.user_id !== author && "author",
        row.client_id !== client && "client",
        row.at_text !== time && "time",
        Number(row.size) !== m.data.byteLength && "size",
      ].filter((f): f is string => typeof f === "string");
      if (differs.length) fail(`the stored edit log and the stream disagree on edit seq ${seq}: ${differs.join(", ")} (log hash ${row.hash}, the stream's bytes give ${hash})`);
    }
    return { type: "edit", seq, streamSeq: m.seq, time, author, client, update: Buffer.from(m.data).toString("base64"), prevHash: c.edit.hash, hash };
  }

  function eventLine(docId: string, c: Cursor, m: JsMsg): AuditEventLine {
    const seq = c.event.seq + 1;
    let event: unknown;
    try {
      event = m.json<unknown>();
    } catch {
      event = undefined;
    }
    if (event === null || typeof event !== "object" || Array.isArray(event)) {
      throw new MismatchError({ type: "error", code: "MALFORMED_EVENT", chain: "event", seq, streamSeq: m.seq, message: `the stored event at DOCS stream seq ${m.seq} is not a JSON object` });
    }
    const hash = eventChainHash(c.event.hash, { docId, seq, event });
    return { type: "event", seq, streamSeq: m.seq, event: event as Record<string, unknown>, prevHash: c.event.hash, hash };
  }

  async function page(input: unknown, ctx: RpcContext): Promise<RpcResult> {
    const caller = requireCaller(ctx);
    const q = parse(AuditPageInput, input, "query");
    await requireAccess(q.id, caller.userId, ctx.requestId);
    const docId = q.id;
    // The header and an error line are short (well under the smallest page), so only edit and
    // event lines, which can be regenerated from the cursor, ever span pages.
    const budget = q.pageBytes ?? defaultPageBytes();
    const started = performance.now();
    const out: string[] = [];
    let used = 0;
    let c: Cursor;
    if (q.cursor) {
      c = decodeCursor(q.cursor, docId);
    } else {
      const first = await begin(docId);
      c = first.cursor;
      const header = `${JSON.stringify(first.header)}\n`;
      out.push(header);
      used += replyBytes(header);
    }

    const editsAhead = c.edit.next <= c.editBound && c.edit.next <= c.editLast;
    const edits = new Peekable(
      editsAhead ? readSubject(js, Streams.edits, subjects.edits(docId), c.edit.next, c.editBound, await prefetchFor(docId, c.edit.seq, budget)) : undefined,
    );
    const events = new Peekable(
      mergeBySeq(
        c.event.next <= c.eventBound ? readSubject(js, Streams.docs, subjects.docEvents(docId), c.event.next, c.eventBound, 200) : undefined,
        c.event.next <= c.fileBound ? readSubject(js, Streams.docs, subjects.fileEvents(docId), c.event.next, c.fileBound, 200) : undefined,
      ),
    );
    const logRow = logReader(docId, c.edit.seq);
    let nextCursor: string | null = null;
    try {
      for (;;) {
        if (out.length > 0 && performance.now() - started > pageMillis) {
          nextCursor = encodeCursor(c);
          break;
        }
        const e = await edits.peek();
        const v = await events.peek();
        let line: string;
        let advance: (() => void) | null;
        try {
          if (e === undefined && v === undefined) {
            if (c.edit.seq < c.editCount) {
              throw new MismatchError({
                type: "error",
                code: "CHAIN_MISMATCH",
                chain: "edit",
                seq: c.edit.seq + 1,
                message: `edits ${c.edit.seq + 1} to ${c.editCount} are in the stored edit log but missing from the stream`,
              });
            }
            const end: AuditEndLine = { type: "end", edits: c.edit.seq, events: c.event.seq, editHead: c.edit.hash, eventHead: c.event.hash };
            line = JSON.stringify(end);
            advance = null;
          } else if (v !== undefined && (e === undefined || orderKey(v, eventTime) <= orderKey(e, editTime))) {
            const ev = eventLine(docId, c, v);
            line = JSON.stringify(ev);
            advance = () => {
              events.take();
              c = { ...c, event: { next: v.seq + 1, seq: ev.seq, hash: ev.hash }, skip: 0 };
            };
          } else {
            const msg = e as JsMsg;
            const ed = editLine(docId, c, msg, await logRow(c.edit.seq + 1));
            line = JSON.stringify(ed);
            advance = () => {
              edits.take();
              c = { ...c, edit: { next: msg.seq + 1, seq: ed.seq, hash: ed.hash }, skip: 0 };
            };
          }
        } catch (err) {
          if (!(err instanceof MismatchError)) throw err;
          ctx.log.warn({ docId, mismatch: err.line }, "audit export: the stored edit log and the stream disagree");
          // A half-sent line is ended first; nothing follows an error line.
          line = `${c.skip > 0 ? "\n" : ""}${JSON.stringify(err.line)}`;
          c = { ...c, skip: 0 };
          advance = null;
        }
        const rest = c.skip > 0 ? `${line}\n`.slice(c.skip) : `${line}\n`;
        const cost = replyBytes(rest);
        if (cost <= budget - used) {
          out.push(rest);
          used += cost;
          if (!advance) break; // the end line or an error line: the last of the trail
          advance();
          continue;
        }
        // It does not fit: leave it for the next page, unless it is an edit or event line that no page could hold.
        if (out.length > 0 && (cost <= budget || budget - used < 1024 || !advance)) {
          nextCursor = encodeCursor(c);
          break;
        }
        const piece = prefixWithin(rest, budget - used);
        out.push(piece);
        c = { ...c, skip: c.skip + piece.length };
        nextCursor = encodeCursor(c);
        break;
      }
    } finally {
      await edits.close();
      await events.close();
    }
    const body: AuditPage = { chunk: out.join(""), nextCursor };
    return { body };
  }

  return { page };
}

const orderKeys = new WeakMap<JsMsg, number>();
/** A message's place in the merged trail (memoised: the head of one stream is compared with many of the other). */
function orderKey(m: JsMsg, time: (m: JsMsg) => unknown): number {
  let k = orderKeys.get(m);
  if (k === undefined) {
    k = auditOrderKey(time(m));
    orderKeys.set(m, k);
  }
  return k;
}

function editTime(m: JsMsg): string {
  return readEditHeaders(m.headers, m.info.timestampNanos).time;
}

function eventTime(m: JsMsg): unknown {
  try {
    const e = m.json<unknown>();
    return e !== null && typeof e === "object" ? (e as Record<string, unknown>)["at"] : undefined;
  } catch {
    return undefined;
  }
}
