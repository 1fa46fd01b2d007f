import * as encoding from "lib0/encoding";
import type { NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { Streams, subjects } from "@palimpsest/contracts";

/** How many messages a stream holds on one subject. */
export async function storedOnSubject(jsm: JetStreamManager, stream: string, subject: string): Promise<number> {
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

/** How many edit events the stream holds for a document. */
export const storedEdits = (jsm: JetStreamManager, docId: string) => storedOnSubject(jsm, Streams.edits, subjects.edits(docId));

/** How many metadata events the stream holds for a document. */
export const storedDocEvents = (jsm: JetStreamManager, docId: string) => storedOnSubject(jsm, Streams.docs, subjects.docEvents(docId));

/**
 * The document's updates as JetStream holds them, in order: what a local replay starts from.
 * Read in bounded batches, each from a fresh consumer starting after the last message read: an
 * ordered consumer was seen here to stop delivering on a busy machine (14 000 of 14 018 read,
 * then nothing for 20 s), and a read that never ends hides what the stream holds.
 */
export async function storedUpdates(nc: NatsConnection, jsm: JetStreamManager, docId: string, timeoutMs = 30_000): Promise<Uint8Array[]> {
  const count = await storedEdits(jsm, docId);
  const out: Uint8Array[] = [];
  let lastSeq = 0;
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    if (Date.now() > deadline) throw new Error(`read ${out.length} of the ${count} stored edits of ${docId} in ${timeoutMs} ms`);
    const consumer = await jetstream(nc).consumers.get(Streams.edits, {
      filter_subjects: subjects.edits(docId),
      ...(lastSeq === 0 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }),
    });
    const batch = await consumer.fetch({ max_messages: Math.min(count - out.length, 1_000), expires: 2_000 });
    for await (const m of batch) {
      if (m.seq <= lastSeq) continue;
      out.push(m.data);
      lastSeq = m.seq;
    }
  }
  return out;
}

/** A y-websocket sync "update" message carrying these bytes, as a client would send it. */
export function syncUpdateMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, 2);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}
