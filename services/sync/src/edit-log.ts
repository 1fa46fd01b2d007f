import { headers as natsHeaders } from "@nats-io/transport-node";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Streams, editMessageId, readEditHeaders, subjectDocId, subjects, writeEditHeaders, type CallerApiToken } from "@palimpsest/contracts";
import {
  SpanAttributes,
  discardConsumer,
  followedMeta,
  keepFollowing,
  publishDurably,
  tracingEnabled,
  withConsumerSpan,
  type FollowedMessage,
  type LiveFollower,
  type Logger,
  type SpanContext,
} from "@palimpsest/platform";

export interface EditMeta {
  /** The global order of stored edits. */
  streamSeq: number;
  author: string;
  client: string;
  time: string;
}

export interface EditFeed {
  /** Resolves once every edit stored before the feed opened has been delivered; rejects if they could not be read. */
  caughtUp: Promise<void>;
  stop(): void;
}

/**
 * A document's snapshot is from a later position than the stream holds for it: the stream lost
 * edits (see StreamRewound), so the snapshot has content that is no longer stored.
 */
export class SnapshotAhead extends Error {
  constructor(docId: string, snapshotSeq: number, storedSeq: number) {
    super(`the snapshot of ${docId} is at stream sequence ${snapshotSeq}, the stream holds it only up to ${storedSeq}`);
    this.name = "SnapshotAhead";
  }
}

/** The EDITS stream went back behind edits this replica already handed to its documents. */
export class StreamRewound extends Error {
  constructor(handled: number, resumeAfter: number) {
    super(`the edits stream went back from sequence ${handled} to ${resumeAfter}: edits that open documents hold are no longer stored`);
    this.name = "StreamRewound";
  }
}

/** How long the replica's feed may go without a delivery while the stream holds more, before it is replaced. */
const STALL_MS = 2_000;
/** A document's past is read by direct gets up to this many edits, then through a consumer. */
const DIRECT_READS = 16;

/** One open document's view of the feed. */
interface Subscriber {
  onEdit: (update: Uint8Array, meta: EditMeta) => void;
  onError: (err: unknown) => void;
  /** The last stream sequence handed to `onEdit`. */
  delivered: number;
  /** While the document catches up on its past, what the live feed brought for it meanwhile. */
  held: FollowedMessage[] | undefined;
  /** Live deliveries are traced (tracing on); a document's past, read when it opens, is not. */
  liveAfter: number;
}

/**
 * The sync service's view of the EDITS stream: append an update (resolved once JetStream has
 * stored it), and follow a document's stored updates in stream order from the start, live.
 *
 * A replica follows the whole stream through one consumer, started with the service, and hands
 * each stored edit to the documents open here. So nats-server keeps one consumer per replica,
 * however many documents are open, instead of one per open document, each with its heartbeats
 * and its idle polls. A document that opens reads its past (after its snapshot) once, through a
 * consumer deleted when done, while the replica's feed holds back what arrives for it meanwhile;
 * then the two meet with nothing skipped or repeated, by stream sequence.
 *
 * The feed heals itself (platform's keepFollowing): a consumer that stalls behind the stream is
 * replaced right after the last edit delivered, read directly while none can be opened. If the
 * feed fails outright it follows again from that position, and the documents are told, so their
 * clients resync.
 */
export class EditLog {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private feed: Promise<LiveFollower> | undefined;
  /** The last message the replica's feed handled. */
  private handledSeq = 0;
  private closed = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly replicaId: string,
    private readonly log: Logger,
  ) {}

  /** Starts following the stream from its end, before any document opens. */
  async start(): Promise<void> {
    await this.ensureFeed();
  }

  close(): void {
    this.closed = true;
    void this.feed?.then((f) => f.stop(), () => undefined);
  }

  /**
   * `connection`: the span context the client's connection came with, linked from the edit's own trace (tracing on).
   * `apiToken`: the token the client connected with, named in the edit beside its owner.
   */
  async append(docId: string, update: Uint8Array, author: string, client: string, connection?: SpanContext, apiToken?: Pick<CallerApiToken, "id" | "name">): Promise<{ streamSeq: number; duplicate: boolean }> {
    const h = natsHeaders();
    writeEditHeaders(h, { author, client, replica: this.replicaId, ...(apiToken ? { via: { tokenId: apiToken.id, name: apiToken.name } } : {}) });
    // Through a leader election or a reconnect the append is tried again with the same id: the
    // client's edit is acknowledged late, not refused, and stored once.
    // Each edit is a trace of its own (a connection lives for hours), linked to the connection's.
    const ack = await publishDurably(this.js, subjects.edits(docId), update, {
      msgID: editMessageId(docId, update),
      headers: h,
      trace: { newTrace: true, ...(connection ? { links: [connection] } : {}) },
    });
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
   */
  async follow(docId: string, onEdit: (update: Uint8Array, meta: EditMeta) => void, onError: (err: unknown) => void, afterStreamSeq = 0): Promise<EditFeed> {
    if (this.closed) throw new Error("the edit log is closed");
    await this.ensureFeed();
    const sub: Subscriber = { onEdit, onError, delivered: afterStreamSeq, held: [], liveAfter: Number.POSITIVE_INFINITY };
    const set = this.subscribers.get(docId) ?? new Set<Subscriber>();
    set.add(sub);
    this.subscribers.set(docId, set);
    let stopped = false;
    const stop = () => {
      stopped = true;
      set.delete(sub);
      if (set.size === 0 && this.subscribers.get(docId) === set) this.subscribers.delete(docId);
    };
    const caughtUp = (async () => {
      // Registered first: whatever is stored from here on reaches `held` through the replica's feed.
      const target = await this.lastStreamSeq(docId);
      if (target < afterStreamSeq) throw new SnapshotAhead(docId, afterStreamSeq, target);
      sub.liveAfter = target;
      if (target > sub.delivered) await this.readPast(docId, sub, target, () => stopped);
      const held = sub.held ?? [];
      sub.held = undefined;
      if (stopped) return;
      for (const m of held) this.deliver(sub, m);
    })();
    // A document that could not read its past is not opened; the caller sees why.
    caughtUp.catch(() => stop());
    return { caughtUp, stop };
  }

  /**
   * A document's stored edits after what it has, through `target`. A short tail (the usual case
   * after a snapshot) is read by direct gets, which any replica of the stream answers and which
   * cost the server nothing to set up; a longer one through a consumer of its own, deleted when done.
   */
  private async readPast(docId: string, sub: Subscriber, target: number, stopped: () => boolean): Promise<void> {
    for (let i = 0; i < DIRECT_READS && sub.delivered < target; i++) {
      const m = await this.jsm.direct.getMessage(Streams.edits, { next_by_subj: subjects.edits(docId), seq: sub.delivered + 1 });
      if (stopped()) return;
      // Any replica of the stream answers a direct get, and one that lags may not have it yet:
      // the consumer, served by the stream's leader, reads the rest.
      if (m === null) break;
      this.deliver(sub, m);
    }
    if (sub.delivered >= target) return;
    const consumer = await this.js.consumers.get(Streams.edits, {
      filter_subjects: subjects.edits(docId),
      ...(sub.delivered > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: sub.delivered + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await consumer.consume({ max_messages: 1_000 });
    try {
      for await (const m of messages) {
        if (stopped()) return;
        this.deliver(sub, m);
        // Nothing more stored for it (the stream may hold less than it said, after a loss): the live feed goes on from here.
        if (m.seq >= target || m.info.pending === 0) return;
      }
    } finally {
      discardConsumer(consumer, messages);
    }
  }

  private deliver(sub: Subscriber, m: FollowedMessage): void {
    if (m.seq <= sub.delivered) return;
    sub.delivered = m.seq;
    const { headers, timestampNanos } = followedMeta(m);
    const hand = () => {
      const { author, client, time } = readEditHeaders(headers, timestampNanos);
      sub.onEdit(m.data, { streamSeq: m.seq, author, client, time });
    };
    // The live fan-out to this replica's clients, in the trace of the append that stored it.
    if (tracingEnabled() && m.seq > sub.liveAfter) {
      withConsumerSpan("process EDITS", [{ headers }], { [SpanAttributes.messagingSystem]: "nats", [SpanAttributes.operationType]: "process", [SpanAttributes.destination]: m.subject, [SpanAttributes.streamSeq]: m.seq, [SpanAttributes.consumerGroup]: `sync:${this.replicaId}` }, hand);
    } else {
      hand();
    }
  }

  private onStored(m: FollowedMessage): void {
    this.handledSeq = m.seq;
    const docId = subjectDocId.edits(m.subject);
    const set = docId ? this.subscribers.get(docId) : undefined;
    if (!set) return;
    for (const sub of set) {
      if (sub.held) {
        sub.held.push(m);
        continue;
      }
      try {
        this.deliver(sub, m);
      } catch (err) {
        // One document's failure is its own: the others, and the replica's feed, go on.
        sub.onError(err);
      }
    }
  }

  private ensureFeed(): Promise<LiveFollower> {
    if (this.feed) return this.feed;
    // Once open, the feed outlives its consumer's failures, going on from the last edit it handled.
    const opening = keepFollowing({
      js: this.js,
      jsm: this.jsm,
      stream: Streams.edits,
      filterSubject: subjects.allEdits(),
      stallMs: STALL_MS,
      onMessage: (m) => this.onStored(m),
      onLost: (err) => this.feedLost(err),
      onRewind: (resumeAfter) => this.rewound(resumeAfter),
      log: this.log,
    });
    this.feed = opening;
    // One that could not open is tried again by the next document that opens.
    opening.catch(() => {
      if (this.feed === opening) this.feed = undefined;
    });
    return opening;
  }

  /**
   * The stream lost edits that open documents hold (and clients were told are stored): every
   * open document is told, so it is loaded again from what the stream holds and its clients,
   * asked for what it lacks, send it again.
   */
  private rewound(resumeAfter: number): void {
    const err = new StreamRewound(this.handledSeq, resumeAfter);
    this.log.error({ err }, "the edits stream went back; reloading every open document");
    this.handledSeq = resumeAfter;
    for (const set of this.subscribers.values()) for (const sub of set) sub.onError(err);
  }

  /**
   * The replica's feed failed outright (not a stall, which it heals itself) and follows again from
   * the last edit it handled, so no open document misses one; their clients are told to resync all
   * the same, in case an edit they sent was caught in between.
   */
  private feedLost(err: unknown): void {
    this.log.error({ err }, "the replica's edit feed failed; following the stream again");
    for (const set of this.subscribers.values()) for (const sub of set) sub.onError(err);
  }
}
