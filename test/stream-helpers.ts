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

/** The document's updates as JetStream holds them, in order: what a local replay starts from. */
export async function storedUpdates(nc: NatsConnection, jsm: JetStreamManager, docId: string): Promise<Uint8Array[]> {
  const count = await storedEdits(jsm, docId);
  const out: Uint8Array[] = [];
  if (count === 0) return out;
  const consumer = await jetstream(nc).consumers.get(Streams.edits, { filter_subjects: subjects.edits(docId), deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push(m.data);
    if (out.length >= count) break;
  }
  messages.stop();
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
