import { DeliverPolicy, type JetStreamClient, type JsMsg, type ConsumerMessages } from "@nats-io/jetstream";
import { sql, type Kysely, type Transaction } from "kysely";
import pg from "pg";
import type { Logger } from "./logger.ts";
import { wakeableSleep } from "./wakeable-sleep.ts";
import type { Metrics } from "./metrics.ts";
import { SpanAttributes, tracingEnabled, withConsumerSpan } from "./tracing.ts";
import { resumePoint, type StreamPosition } from "./live-follower.ts";
import { rebuildProjection } from "./rebuild.ts";

export interface ProjectionSpec<DB> {
  /** Names the checkpoint and the leader lock. */
  name: string;
  stream: string;
  filterSubject: string;
  /** Applies a batch of messages, in stream order, inside one transaction. Must be idempotent per message. */
  apply(trx: Transaction<DB>, msgs: JsMsg[]): Promise<void>;
  /** `apply` reads only subjects, headers and stored times: the server leaves the payloads out. */
  headersOnly?: boolean;
}

export interface ProjectionRunner {
  /** Stream sequence of the last event applied, as stored with the read model. */
  checkpoint(): Promise<number>;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export async function ensureCheckpointTable<DB>(db: Kysely<DB>): Promise<void> {
  await sql`create table if not exists projection_checkpoints (
    name text primary key,
    stream_seq bigint not null default 0,
    updated_at timestamptz not null default now()
  )`.execute(db);
  // When the checkpoint's event was stored: what tells a stream that went back from one that did not.
  // Looked up first: an ALTER waits for every transaction on the table (a rebuild holds one for
  // its whole replay) and holds up every projection queued behind it, even when there is nothing to add.
  const has = await sql<{ n: number }>`select count(*)::int as n from information_schema.columns
    where table_schema = current_schema() and table_name = 'projection_checkpoints' and column_name = 'stream_time_ms'`.execute(db);
  if ((has.rows[0]?.n ?? 0) === 0) {
    await sql`alter table projection_checkpoints add column if not exists stream_time_ms bigint not null default 0`.execute(db);
  }
}

export async function readCheckpoint<DB>(db: Kysely<DB> | Transaction<DB>, name: string): Promise<number> {
  return (await readCheckpointPosition(db, name)).seq;
}

/** The checkpoint with the stored time of its event (0 when not known: written before times were kept). */
export async function readCheckpointPosition<DB>(db: Kysely<DB> | Transaction<DB>, name: string): Promise<StreamPosition> {
  const res = await sql<{ stream_seq: string | number; stream_time_ms: string | number }>`select stream_seq, stream_time_ms from projection_checkpoints where name = ${name}`.execute(db);
  const row = res.rows[0];
  return { seq: Number(row?.stream_seq ?? 0), timeMs: Number(row?.stream_time_ms ?? 0) };
}

export async function resetCheckpoint<DB>(db: Kysely<DB> | Transaction<DB>, name: string): Promise<void> {
  await sql`delete from projection_checkpoints where name = ${name}`.execute(db);
}

/**
 * Keeps a read model in Postgres up to date with a stream.
 *
 * The checkpoint (the last applied stream sequence) is stored in the same transaction as the
 * rows it produced, so a crash can never apply an event twice or skip one; replay starts from
 * checkpoint + 1 with an ordered consumer. Only one replica projects at a time: the holder of a
 * Postgres advisory lock on a dedicated connection. If it dies, its connection closes, the lock
 * is released and another replica takes over from the stored checkpoint.
 */
export function runProjection<DB>(opts: {
  db: Kysely<DB>;
  databaseUrl: string;
  js: JetStreamClient;
  spec: ProjectionSpec<DB>;
  log: Logger;
  metrics: Metrics;
  batchSize?: number;
  retryMs?: number;
  /**
   * How long a partial batch may wait for more events. One transaction per event costs a busy
   * small server more CPU than the service it projects; a few tens of milliseconds of lag cost
   * nothing (commands apply their own events at once). @default 50
   */
  flushDelayMs?: number;
  /** A consumer silent this long is asked whether events are pending (see project). @default 5000 */
  stallMs?: number;
  /**
   * The tables this projection alone writes. When its stream went back behind the checkpoint
   * (see resumePoint), the read model holds events the stream no longer has: it is rebuilt from
   * the stream, these tables first emptied. Without them it goes on from the stream's new events.
   */
  tables?: readonly string[];
  /** How often the checkpoint is checked against the stream for a rewind. @default 10000 */
  verifyMs?: number;
  /**
   * Told of each batch once its transaction committed (never of one rolled back), so live notices
   * go out only for what a reader can already see. Its errors are logged and change nothing.
   */
  committed?: (msgs: JsMsg[]) => Promise<void>;
}): ProjectionRunner {
  const { db, js, spec, metrics } = opts;
  const log = opts.log.child({ projection: spec.name });
  const batchSize = opts.batchSize ?? 500;
  const retryMs = opts.retryMs ?? 1_000;
  const flushDelayMs = opts.flushDelayMs ?? 50;
  const stallMs = opts.stallMs ?? 5_000;
  const verifyMs = opts.verifyMs ?? 10_000;
  let stopped = false;
  let leader = false;
  let lockClient: pg.Client | undefined;
  let messages: ConsumerMessages | undefined;
  const { sleep, wake } = wakeableSleep();

  async function acquire(): Promise<boolean> {
    const client = new pg.Client({ connectionString: opts.databaseUrl });
    client.on("error", () => undefined);
    await client.connect();
    const res = await client.query<{ locked: boolean }>("select pg_try_advisory_lock(hashtext($1)) as locked", [
      `projection:${spec.name}`,
    ]);
    if (res.rows[0]?.locked) {
      lockClient = client;
      // Losing the lock connection means another replica may take over: stop projecting at once.
      client.on("end", () => {
        lockClient = undefined;
        if (leader) {
          log.warn("lost the projection lock");
          leader = false;
          messages?.stop();
        }
      });
      return true;
    }
    await client.end();
    return false;
  }

  async function flush(batch: JsMsg[]): Promise<void> {
    const last = batch[batch.length - 1];
    if (!last) return;
    let applied: JsMsg[] = [];
    await db.transaction().execute(async (trx) => {
      // The row lock serialises writers even if two replicas briefly both believe they lead.
      await sql`insert into projection_checkpoints (name) values (${spec.name}) on conflict (name) do nothing`.execute(trx);
      const locked = await sql<{ stream_seq: number }>`select stream_seq from projection_checkpoints where name = ${spec.name} for update`.execute(trx);
      const current = locked.rows[0]?.stream_seq ?? 0;
      const fresh = batch.filter((m) => m.seq > current);
      if (fresh.length === 0) return;
      applied = fresh;
      if (tracingEnabled()) {
        // In the trace of the append that stored the event (a batch links to each of its events' traces).
        await withConsumerSpan(`process ${spec.stream}`, fresh, { [SpanAttributes.messagingSystem]: "nats", [SpanAttributes.operationType]: "process", [SpanAttributes.destination]: spec.filterSubject, [SpanAttributes.projection]: spec.name, [SpanAttributes.consumerGroup]: spec.name }, () => spec.apply(trx, fresh));
      } else {
        await spec.apply(trx, fresh);
      }
      const storedAt = Math.floor(last.info.timestampNanos / 1e6);
      await sql`insert into projection_checkpoints (name, stream_seq, stream_time_ms, updated_at) values (${spec.name}, ${last.seq}, ${storedAt}, now())
        on conflict (name) do update set stream_seq = excluded.stream_seq, stream_time_ms = excluded.stream_time_ms, updated_at = now()
        where projection_checkpoints.stream_seq < excluded.stream_seq`.execute(trx);
    });
    if (opts.committed && applied.length > 0) await opts.committed(applied).catch((err: unknown) => log.warn({ err }, "a committed batch's follow-up failed"));
    metrics.projectedEvents.inc({ projection: spec.name }, batch.length);
    metrics.projectionLagSeconds.set({ projection: spec.name }, Math.max(0, (Date.now() - last.info.timestampNanos / 1e6) / 1000));
  }

  /** When the stream went back behind the checkpoint, makes the read model match it again. */
  async function matchStream(): Promise<void> {
    const at = await readCheckpointPosition(db, spec.name);
    const jsm = await js.jetstreamManager(false);
    if ((await resumePoint(jsm, spec.stream, spec.filterSubject, at)) >= at.seq) return;
    // Asked again a moment later before a rebuild: a leader elected a moment ago may not hold
    // yet what it will. A rewind stays one.
    await sleep(stallMs);
    const resumeAfter = await resumePoint(jsm, spec.stream, spec.filterSubject, at);
    if (resumeAfter >= at.seq) return;
    if (opts.tables) {
      log.error({ checkpoint: at.seq, resumeAfter }, "the stream went back behind this read model; rebuilding it from what the stream holds");
      const replayed = await rebuildProjection(db, js, spec, opts.tables);
      log.warn({ replayed }, "read model rebuilt");
    } else {
      log.error({ checkpoint: at.seq, resumeAfter }, "the stream went back behind this read model; going on from its new events");
      await sql`update projection_checkpoints set stream_seq = ${resumeAfter}, stream_time_ms = 0, updated_at = now() where name = ${spec.name}`.execute(db);
    }
  }

  async function project(): Promise<void> {
    await matchStream();
    const from = (await readCheckpoint(db, spec.name)) + 1;
    const consumer = await js.consumers.get(spec.stream, {
      filter_subjects: spec.filterSubject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
      ...(spec.headersOnly ? { headers_only: true } : {}),
    });
    const current = await consumer.consume({ max_messages: 1_000 });
    messages = current;
    log.info({ from }, "projecting");
    // The ordered consumer lives on one JetStream node; when that node dies nats.js notices only
    // after missed heartbeats (20-45 s measured on a cluster), and the read model falls behind
    // meanwhile. So a projection that has received nothing for a while asks its consumer how much
    // is pending; an answer of "some" or no answer at all ends this consumer, and the loop starts a
    // new one from the checkpoint.
    let progressAt = Date.now();
    let checking = false;
    let flushing = 0;
    // A rewind shows neither as a stall nor as an error: the consumer waits for sequences the
    // stream now gives to other events. Checked now and then; found, this consumer ends and the
    // loop starts over, matching the read model to the stream first.
    let verifiedAt = Date.now();
    let verifying = false;
    const watchdog = setInterval(() => {
      if (!verifying && Date.now() - verifiedAt >= verifyMs) {
        verifying = true;
        verifiedAt = Date.now();
        const jsm = js.jetstreamManager(false);
        void Promise.all([readCheckpointPosition(db, spec.name), jsm])
          .then(([at, m]) => resumePoint(m, spec.stream, spec.filterSubject, at).then((resumeAfter) => resumeAfter < at.seq))
          .then(
            (rewound) => {
              if (!rewound) return;
              log.warn("the stream went back behind this read model; starting over");
              current.stop();
            },
            (err: unknown) => log.debug({ err }, "could not check the stream for a rewind"),
          )
          .finally(() => {
            verifying = false;
          });
      }
      // A long flush holds the loop up without the consumer being at fault.
      if (checking || flushing > 0 || Date.now() - progressAt < stallMs) return;
      checking = true;
      consumer
        .info()
        .then(
          (info) => {
            if (info.num_pending > 0 && Date.now() - progressAt >= stallMs) {
              log.warn({ pending: info.num_pending }, "projection consumer stalled with events pending; opening a new one");
              current.stop();
            } else {
              progressAt = Date.now();
            }
          },
          (err: unknown) => {
            log.warn({ err }, "projection consumer did not answer; opening a new one");
            current.stop();
          },
        )
        .finally(() => {
          checking = false;
        });
    }, stallMs / 2);
    watchdog.unref();
    let batch: JsMsg[] = [];
    let timer: NodeJS.Timeout | undefined;
    let chain: Promise<void> = Promise.resolve();
    let failed: unknown;
    // Flushes run one after another, in order; messages keep arriving meanwhile.
    const flushNow = (): Promise<void> => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const b = batch;
      batch = [];
      if (b.length > 0) {
        flushing++;
        chain = chain
          .then(() => flush(b))
          .finally(() => {
            flushing--;
            progressAt = Date.now();
          });
      }
      return chain;
    };
    try {
      for await (const m of current) {
        progressAt = Date.now();
        batch.push(m);
        if (batch.length >= batchSize) await flushNow();
        else if (!timer) {
          timer = setTimeout(() => {
            flushNow().catch((err: unknown) => {
              failed = err;
              current.stop();
            });
          }, flushDelayMs);
        }
      }
    } finally {
      clearInterval(watchdog);
    }
    await flushNow().catch((err: unknown) => {
      failed ??= err;
    });
    if (failed) throw failed;
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        if (!leader) leader = await acquire();
        if (leader) await project();
        else await sleep(retryMs);
      } catch (err) {
        if (stopped) break;
        log.error({ err }, "projection failed; retrying");
        leader = false;
        await lockClient?.end().catch(() => undefined);
        lockClient = undefined;
        await sleep(retryMs);
      }
    }
  })();

  return {
    checkpoint: () => readCheckpoint(db, spec.name),
    isLeader: () => leader,
    async stop() {
      stopped = true;
      leader = false;
      messages?.stop();
      wake();
      await loop;
      await lockClient?.end().catch(() => undefined);
    },
  };
}
