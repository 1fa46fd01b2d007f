import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely";
import type { ProjectionSpec } from "./projection.ts";

/**
 * What a service owns in the database, as operator tools need it: its migrations, and each of
 * its projections with the tables that projection alone writes (a rebuild truncates them).
 */
export interface ReadModels<DB> {
  service: string;
  migrations: Record<string, Migration>;
  projections: readonly { spec: ProjectionSpec<DB>; tables: readonly string[]; batchSize?: number }[];
}

/**
 * Drops a projection's rows and rebuilds them from its stream, in one transaction, while the
 * services keep running: the checkpoint row is locked first, so the live projector waits and
 * then carries on from where the rebuild ended; writers of the tables wait for the commit.
 * Returns the number of events replayed.
 */
export async function rebuildProjection<DB>(
  db: Kysely<DB>,
  js: JetStreamClient,
  spec: ProjectionSpec<DB>,
  tables: readonly string[],
  batchSize = 1_000,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await sql`insert into projection_checkpoints (name) values (${spec.name}) on conflict (name) do nothing`.execute(trx);
    await sql`select stream_seq from projection_checkpoints where name = ${spec.name} for update`.execute(trx);
    await sql`truncate ${sql.join(tables.map((t) => sql.table(t)))}`.execute(trx);
    const consumer = await js.consumers.get(spec.stream, { filter_subjects: spec.filterSubject, deliver_policy: DeliverPolicy.All, ...(spec.headersOnly ? { headers_only: true } : {}) });
    const info = await consumer.info(true);
    let replayed = 0;
    let last = 0;
    let lastAt = 0;
    if (info.num_pending > 0) {
      const messages = await consumer.consume({ max_messages: batchSize });
      let batch: JsMsg[] = [];
      for await (const m of messages) {
        batch.push(m);
        if (batch.length >= batchSize || m.info.pending === 0) {
          await spec.apply(trx, batch);
          replayed += batch.length;
          last = m.seq;
          lastAt = Math.floor(m.info.timestampNanos / 1e6);
          batch = [];
          if (m.info.pending === 0) break;
        }
      }
      messages.stop();
    }
    await sql`update projection_checkpoints set stream_seq = ${last}, stream_time_ms = ${lastAt}, updated_at = now() where name = ${spec.name}`.execute(trx);
    return replayed;
  });
}
