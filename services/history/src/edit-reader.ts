import { DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";
import { EditHeaders, Streams, subjects } from "@palimpsest/contracts";

export interface StoredEdit {
  streamSeq: number;
  update: Uint8Array;
  author: string;
  client: string;
  time: string;
}

/**
 * Reads a document's stored updates from the EDITS stream, in order, from stream sequence
 * `fromStreamSeq` through `toStreamSeq` (both inclusive). The bytes live only in the stream.
 */
export async function* readEdits(js: JetStreamClient, docId: string, fromStreamSeq: number, toStreamSeq: number): AsyncGenerator<StoredEdit> {
  if (toStreamSeq < fromStreamSeq) return;
  const consumer = await js.consumers.get(Streams.edits, {
    filter_subjects: subjects.edits(docId),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, fromStreamSeq),
  });
  const messages = await consumer.consume({ max_messages: 5_000 });
  try {
    for await (const m of messages) {
      if (m.seq > toStreamSeq) break;
      yield {
        streamSeq: m.seq,
        update: m.data,
        author: m.headers?.get(EditHeaders.author) ?? "",
        client: m.headers?.get(EditHeaders.client) ?? "",
        time: m.headers?.get(EditHeaders.time) ?? "",
      };
      if (m.seq >= toStreamSeq || m.info.pending === 0) break;
    }
  } finally {
    messages.stop();
  }
}
