import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type MsgRequest } from "@nats-io/jetstream";
import { Streams } from "@palimpsest/contracts";
import { discardConsumer } from "@palimpsest/platform";

/** Events of an aggregate read one request each; a longer history is read through a consumer. */
const DIRECT_READS = 16;

/** A stored message as an aggregate's fold needs it. */
export interface SubjectMessage {
  seq: number;
  json<T>(): T;
}

/**
 * Hands every message of one DOCS subject (an aggregate's events) to `apply`, oldest first,
 * through `lastSeq` (the subject's last message, read by the caller).
 *
 * An aggregate has a few events: each is read through the stream's leader, which has every stored
 * one, at the cost of a request. Setting up a consumer (create, pull, delete) cost the server and
 * this service several times that; a long history still goes through one.
 */
export async function readSubjectEvents(js: JetStreamClient, jsm: JetStreamManager, subject: string, lastSeq: number, apply: (m: SubjectMessage) => void): Promise<void> {
  let seq = 0;
  for (let i = 0; i < DIRECT_READS && seq < lastSeq; i++) {
    // The server takes `next_by_subj` in a message get; nats.js types it only for direct gets.
    const m = await jsm.streams.getMessage(Streams.docs, { seq: seq + 1, next_by_subj: subject } as unknown as MsgRequest);
    if (!m) break;
    apply(m);
    seq = m.seq;
  }
  if (seq >= lastSeq) return;
  const consumer = await js.consumers.get(Streams.docs, {
    filter_subjects: subject,
    ...(seq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq + 1 } : { deliver_policy: DeliverPolicy.All }),
  });
  const messages = await consumer.consume({ max_messages: 1_000 });
  try {
    for await (const m of messages) {
      if (m.seq > seq) apply(m);
      if (m.seq >= lastSeq) break;
    }
  } finally {
    discardConsumer(consumer, messages);
  }
}
