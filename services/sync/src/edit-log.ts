import { createHash } from "node:crypto";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { EditHeaders, Streams, subjects } from "@palimpsest/contracts";
import { SpanAttributes, publishDurably, tracingEnabled, withConsumerSpan, type SpanContext } from "@palimpsest/platform";

export interface EditMeta {
  /** Stream sequence: the global order of stored edits. */
  seq: number;
  author: string;
  client: string;
  time: string;
}

export interface EditFeed {
  /** Resolves once every edit stored before the feed opened has been delivered. */
  caughtUp: Promise<void>;
  stop(): void;
}

/** The id JetStream deduplicates on: the same bytes for the same document are the same Yjs content. */
export function editMessageId(docId: string, update: Uint8Array): string {
  return createHash("sha256").update(docId).update(":").update(update).digest("base64url");
}

/**
 * The sync service's view of the EDITS stream: append an update (resolved once JetStream has
 * stored it), and follow a document's stored updates in stream order from the start, live.
 */
export class EditLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly replicaId: string,
  ) {}

  /** `connection`: the span context the client's connection came with, linked from the edit's own trace (tracing on). */
  async append(docId: string, update: Uint8Array, author: string, client: string, connection?: SpanContext): Promise<{ seq: number; duplicate: boolean }> {
    const h = natsHeaders();
    h.set(EditHeaders.author, author);
    h.set(EditHeaders.client, client);
    h.set(EditHeaders.time, new Date().toISOString());
    h.set(EditHeaders.replica, this.replicaId);
    // Through a leader election or a reconnect the append is tried again with the same id: the
    // client's edit is acknowledged late, not refused, and stored once.
    // Each edit is a trace of its own (a connection lives for hours), linked to the connection's.
    const ack = await publishDurably(this.js, subjects.edits(docId), update, {
      msgID: editMessageId(docId, update),
      headers: h,
      trace: { newTrace: true, ...(connection ? { links: [connection] } : {}) },
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  async lastSeq(docId: string): Promise<number> {
    const last = await this.jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(docId) });
    return last?.seq ?? 0;
  }

  /**
   * Delivers every stored update of a document after `afterStreamSeq` (a snapshot's position;
   * 0 for all), oldest first, then new ones as they are stored.
   * Only stored messages reach the feed, which is what makes "durable before visible" hold.
   */
  async follow(
    docId: string,
    onEdit: (update: Uint8Array, meta: EditMeta) => void,
    onError: (err: unknown) => void,
    afterStreamSeq = 0,
  ): Promise<EditFeed> {
    const target = await this.lastSeq(docId);
    const consumer = await this.js.consumers.get(Streams.edits, {
      filter_subjects: subjects.edits(docId),
      ...(afterStreamSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterStreamSeq + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 1_000 });
    let markCaughtUp: () => void = () => undefined;
    const caughtUp = new Promise<void>((resolve) => {
      markCaughtUp = resolve;
    });
    if (target <= afterStreamSeq) markCaughtUp();
    void (async () => {
      try {
        for await (const m of messages) {
          const deliver = () =>
            onEdit(m.data, {
              seq: m.seq,
              author: m.headers?.get(EditHeaders.author) ?? "",
              client: m.headers?.get(EditHeaders.client) ?? "",
              time: m.headers?.get(EditHeaders.time) ?? "",
            });
          // The live fan-out to this replica's clients, in the trace of the append that stored it
          // (not the replay of a document's past edits when it opens).
          if (tracingEnabled() && m.seq > target) {
            withConsumerSpan("process EDITS", [m], { [SpanAttributes.messagingSystem]: "nats", [SpanAttributes.operationType]: "process", [SpanAttributes.destination]: m.subject, [SpanAttributes.streamSeq]: m.seq, [SpanAttributes.consumerGroup]: `sync:${this.replicaId}` }, deliver);
          } else {
            deliver();
          }
          if (m.seq >= target) markCaughtUp();
        }
      } catch (err) {
        onError(err);
      }
    })();
    return { caughtUp, stop: () => messages.stop() };
  }
}
