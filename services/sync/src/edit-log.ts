import { headers as natsHeaders } from "@nats-io/transport-node";
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Streams, editMessageId, readEditHeaders, subjects, writeEditHeaders } from "@palimpsest/contracts";
import { SpanAttributes, discardConsumer, publishDurably, tracingEnabled, withConsumerSpan, type Logger, type SpanContext } from "@palimpsest/platform";

export interface EditMeta {
  /** The global order of stored edits. */
  streamSeq: number;
  author: string;
  client: string;
  time: string;
}

export interface EditFeed {
  /** Resolves once every edit stored before the feed opened has been delivered. */
  caughtUp: Promise<void>;
  stop(): void;
}

/** When a feed is taken as stalled: behind what the stream is known to hold, with no delivery for this long. */
const STALL_MS = 2_000;
/** A feed that delivered nothing for this long asks the stream for its last sequence, at most this often. */
const POLL_MS = 10_000;

interface LiveFeed {
  docId: string;
  /** This replica stored `streamSeq` on the document's subject: the feed must deliver it. */
  stored(streamSeq: number): void;
  check(now: number): Promise<void>;
}

/**
 * The sync service's view of the EDITS stream: append an update (resolved once JetStream has
 * stored it), and follow a document's stored updates in stream order from the start, live.
 */
export class EditLog {
  private readonly feeds = new Map<string, Set<LiveFeed>>();
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly replicaId: string,
    private readonly log?: Logger,
  ) {
    this.watchdog = setInterval(() => {
      const now = Date.now();
      for (const set of this.feeds.values()) for (const f of set) void f.check(now);
    }, STALL_MS / 2);
    this.watchdog.unref();
  }

  close(): void {
    clearInterval(this.watchdog);
  }

  /** `connection`: the span context the client's connection came with, linked from the edit's own trace (tracing on). */
  async append(docId: string, update: Uint8Array, author: string, client: string, connection?: SpanContext): Promise<{ streamSeq: number; duplicate: boolean }> {
    const h = natsHeaders();
    writeEditHeaders(h, { author, client, replica: this.replicaId });
    // Through a leader election or a reconnect the append is tried again with the same id: the
    // client's edit is acknowledged late, not refused, and stored once.
    // Each edit is a trace of its own (a connection lives for hours), linked to the connection's.
    const ack = await publishDurably(this.js, subjects.edits(docId), update, {
      msgID: editMessageId(docId, update),
      headers: h,
      trace: { newTrace: true, ...(connection ? { links: [connection] } : {}) },
    });
    for (const f of this.feeds.get(docId) ?? []) f.stored(ack.seq);
    return { streamSeq: ack.seq, duplicate: ack.duplicate };
  }

  async lastStreamSeq(docId: string): Promise<number> {
    const last = await this.jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(docId) });
    return last?.seq ?? 0;
  }

  /**
   * Delivers every stored update of a document after `afterStreamSeq` (a snapshot's position;
   * 0 for all), oldest first, then new ones as they are stored.
   * Only stored messages reach the feed, which is what makes "durable before visible" hold.
   *
   * The feed heals itself. Its ordered consumer lives on one JetStream node; when that node dies
   * nats.js notices only after missed heartbeats, and was measured here to stay silent for 20-45 s
   * while appends went on through the new leader. So the feed compares what it delivered with
   * what the stream is known to hold (this replica's own acks, and the subject's last sequence
   * when it has been quiet), and when it is behind with no progress it opens a new consumer right
   * after the last edit it delivered.
   */
  async follow(
    docId: string,
    onEdit: (update: Uint8Array, meta: EditMeta) => void,
    onError: (err: unknown) => void,
    afterStreamSeq = 0,
  ): Promise<EditFeed> {
    const target = await this.lastStreamSeq(docId);
    let delivered = afterStreamSeq;
    let known = target;
    let progressAt = Date.now();
    let polledAt = Date.now();
    let stopped = false;
    let restarting = false;
    let messages: ConsumerMessages | undefined;
    let consumer: Consumer | undefined;
    let markCaughtUp: () => void = () => undefined;
    const caughtUp = new Promise<void>((resolve) => {
      markCaughtUp = resolve;
    });
    if (target <= afterStreamSeq) markCaughtUp();

    const pump = async (current: ConsumerMessages) => {
      try {
        for await (const m of current) {
          // A consumer opened again after a stall starts right after `delivered`; anything older is a repeat.
          if (m.seq <= delivered) continue;
          delivered = m.seq;
          progressAt = Date.now();
          const deliver = () => {
            const { author, client, time } = readEditHeaders(m.headers, m.info.timestampNanos);
            onEdit(m.data, { streamSeq: m.seq, author, client, time });
          };
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
        // A consumer replaced after a stall may end with an error of its own; only the live one counts.
        if (current === messages && !stopped) onError(err);
      }
    };
    const open = async () => {
      const opened = await this.js.consumers.get(Streams.edits, {
        filter_subjects: subjects.edits(docId),
        ...(delivered > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: delivered + 1 } : { deliver_policy: DeliverPolicy.All }),
      });
      const next = await opened.consume({ max_messages: 1_000 });
      consumer = opened;
      messages = next;
      void pump(next);
    };
    await open();

    const live: LiveFeed = {
      docId,
      stored(streamSeq) {
        known = Math.max(known, streamSeq);
      },
      check: async (now) => {
        if (stopped || restarting) return;
        if (known <= delivered && now - progressAt >= POLL_MS && now - polledAt >= POLL_MS) {
          polledAt = now;
          known = Math.max(known, await this.lastStreamSeq(docId).catch(() => 0));
        }
        if (known <= delivered || now - progressAt < STALL_MS) return;
        restarting = true;
        this.log?.warn({ docId, delivered, known }, "edit feed stalled behind the stream; opening a new consumer");
        const stale = messages;
        const staleConsumer = consumer;
        try {
          await open();
          if (staleConsumer) discardConsumer(staleConsumer, stale);
          progressAt = Date.now();
        } catch (err) {
          // The stream cannot answer yet (an election): the next check tries again.
          this.log?.debug({ err, docId }, "could not reopen the edit feed yet");
        } finally {
          restarting = false;
        }
      },
    };
    const set = this.feeds.get(docId) ?? new Set<LiveFeed>();
    set.add(live);
    this.feeds.set(docId, set);
    return {
      caughtUp,
      stop: () => {
        stopped = true;
        if (consumer) discardConsumer(consumer, messages);
        set.delete(live);
        if (set.size === 0 && this.feeds.get(docId) === set) this.feeds.delete(docId);
      },
    };
  }
}
