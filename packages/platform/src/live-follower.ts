import { DeliverPolicy, type MsgRequest, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type StoredMsg } from "@nats-io/jetstream";
import type { Logger } from "./logger.ts";

/** What a follower hands on: a message from the consumer, or one read directly while it had none. */
export type FollowedMessage = JsMsg | StoredMsg;

/** The headers and stored time of a followed message, whichever way it was read. */
export function followedMeta(m: FollowedMessage): { headers: JsMsg["headers"]; timestampNanos: number } {
  return "info" in m ? { headers: m.headers, timestampNanos: m.info.timestampNanos } : { headers: m.header, timestampNanos: m.time.getTime() * 1e6 };
}

export interface LiveFollower {
  stop(): void;
}

/** A message's place in a stream: its sequence and the millisecond it was stored at. */
export interface StreamPosition {
  seq: number;
  timeMs: number;
}

/**
 * Two readings of one stored time: a consumer's delivery gives nanoseconds as a JavaScript number
 * (exact to a few hundred nanoseconds only), a message get gives an ISO string, so the two may
 * fall on either side of a millisecond boundary.
 */
function sameMillisecond(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1;
}

/** The stored millisecond of a followed message, whichever way it was read. */
export function storedAtMs(m: FollowedMessage): number {
  // Not through followedMeta: that reads the headers, which a message for no open document never needs.
  return "info" in m ? Math.floor(m.info.timestampNanos / 1e6) : m.time.getTime();
}

/**
 * Where to go on from after a position, given what the stream holds now. Normally the position
 * itself. When the stream went back (a node restarted without what it had acknowledged, or the
 * stream was deleted and created again), the sequences after its new end are given to new
 * messages: the position's message is no longer the one at its sequence, and whatever was stored
 * since carries a later time. Then the answer is right before the first message stored after the
 * position's time, so nothing stored since the rewind is skipped. Asked of the stream's leader
 * (not a direct get, which a lagging replica may answer): a lag must not look like a rewind.
 */
export async function resumePoint(jsm: JetStreamManager, stream: string, filterSubject: string, from: StreamPosition): Promise<number> {
  if (from.seq === 0) return 0;
  const at = await jsm.streams.getMessage(stream, { seq: from.seq });
  if (at && (sameMillisecond(at.time.getTime(), from.timeMs) || from.timeMs === 0)) return from.seq;
  const info = (await jsm.streams.info(stream)).state;
  if (!at && info.last_seq >= from.seq) {
    // Deleted on purpose (an erasure), not rewound: a stream that went back and grew again
    // would hold a new message at that sequence.
    return from.seq;
  }
  // Without the position's time nothing tells old messages from new: go on from the stream's end.
  if (from.timeMs === 0) return Math.min(from.seq, info.last_seq);
  const isNew = async (seq: number): Promise<boolean> => {
    // The server's message get takes a subject to find the next message on; nats.js types it only for direct gets.
    const m = await jsm.streams.getMessage(stream, { seq, next_by_subj: filterSubject } as unknown as MsgRequest);
    return m === null || m.seq > from.seq || (m.time.getTime() > from.timeMs && !sameMillisecond(m.time.getTime(), from.timeMs));
  };
  // The first sequence from which on every message is new; "new" only grows with the sequence.
  let lo = Math.max(1, info.first_seq);
  let hi = from.seq + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (await isNew(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.min(from.seq, lo - 1);
}

/** What a follower reads and whom it tells. */
export interface FollowOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  filterSubject: string;
  onMessage: (m: FollowedMessage) => Promise<void> | void;
  /** The stream itself failed (not a stall): the follower has stopped. */
  onError: (err: unknown) => void;
  /**
   * The stream went back behind what was handled (see resumePoint): the follower goes on right
   * after `resumeAfter`, where new messages begin, once this returns. What was handled after that
   * is no longer stored: whoever built state from it must rebuild.
   */
  onRewind?: (resumeAfter: number) => void;
  log: Logger;
  /** @default 5000 */
  stallMs?: number;
  /** How often the stream is checked for a rewind. @default 5000 */
  verifyMs?: number;
  /**
   * Follow from right after this stream sequence instead of from now on. Given as a position
   * (sequence and stored time), it is checked against the stream first, as for a rewind.
   */
  after?: number | StreamPosition;
}

/**
 * Follows the events stored on `filterSubject` from now on, in order, through an ordered consumer
 * that is replaced when it stalls. The consumer lives on one JetStream node; when that node dies,
 * nats.js notices only after missed heartbeats (20-45 s measured on a 3-node cluster). So a
 * follower that has received nothing for `stallMs` asks its consumer how much is pending, and when
 * some is, or the consumer does not answer, opens a new one right after the last event it handled:
 * nothing is skipped and nothing handled twice. Opening one needs the cluster's meta leader,
 * which takes 5-17 s to elect when its node was the one that died (measured on 2.9.10); until it
 * can, the follower reads what it missed by direct gets, which any replica of the stream answers.
 *
 * `onMessage` runs for one message at a time; an error it throws is the caller's to log.
 */
export async function followLive(opts: FollowOptions): Promise<LiveFollower> {
  const stallMs = opts.stallMs ?? 5_000;
  const verifyMs = opts.verifyMs ?? 5_000;
  // "From now on" as a position, so a replacement consumer can start from exactly there.
  const start: StreamPosition =
    typeof opts.after === "object" ? opts.after : await positionOf(opts.jsm, opts.stream, opts.after ?? (await opts.jsm.streams.info(opts.stream)).state.last_seq);
  let handled = start.seq;
  let handledAt = start.timeMs;
  if (typeof opts.after === "object") {
    const resumeAfter = await resumePoint(opts.jsm, opts.stream, opts.filterSubject, start);
    if (resumeAfter < handled) {
      opts.log.warn({ stream: opts.stream, handled, resumeAfter }, "the stream went back behind where this follower stopped; going on from its new messages");
      ({ seq: handled, timeMs: handledAt } = await positionOf(opts.jsm, opts.stream, resumeAfter));
      opts.onRewind?.(resumeAfter);
    }
  }
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let progressAt = Date.now();
  let checking = false;
  let watchdog: NodeJS.Timeout | undefined;

  // Each message is handled after the one before it, even across a replacement whose old
  // consumer is still finishing a message: one queue for all of them.
  let turn: Promise<void> = Promise.resolve();
  // Bumped by a rewind: what a consumer or direct read begun before it brings is not handed on
  // (it started after the old position, past messages stored since the rewind).
  let epoch = 0;
  const handle = (m: FollowedMessage, readIn: number): Promise<void> => {
    const next = turn.then(async () => {
      if (m.seq <= handled || readIn !== epoch) return;
      handled = m.seq;
      handledAt = storedAtMs(m);
      await opts.onMessage(m);
    });
    turn = next.catch(() => undefined);
    return next;
  };

  // Only the newest attempt may deliver: an older one that finishes opening late stops at once.
  let generation = 0;
  const open = async (): Promise<{ info(): Promise<{ num_pending: number }> }> => {
    const mine = ++generation;
    const openedIn = epoch;
    const consumer = await opts.js.consumers.get(opts.stream, {
      filter_subjects: opts.filterSubject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: handled + 1,
    });
    const current = await consumer.consume({ max_messages: 1_000 });
    if (mine !== generation || stopped) {
      current.stop();
      throw new Error("a newer consumer replaced this one");
    }
    messages = current;
    void (async () => {
      try {
        for await (const m of current) {
          if (current !== messages) break;
          progressAt = Date.now();
          await handle(m, openedIn);
        }
        // Ended without an error and without being replaced or stopped: nothing would follow
        // the stream any more, so a new consumer goes on from the last message handled.
        if (current === messages && !stopped) void replace("follower's consumer ended; opening a new one");
      } catch (err) {
        if (current === messages && !stopped) {
          // The follower ends here: no watchdog may open another consumer behind the caller's back.
          stopped = true;
          clearInterval(watchdog);
          current.stop();
          opts.onError(err);
        }
      }
    })();
    return consumer;
  };
  let consumer = await open();

  // Without a consumer, read on directly: role changes must not wait for an election.
  const catchUp = async () => {
    const startedIn = epoch;
    for (;;) {
      const m = await bounded(opts.jsm.direct.getMessage(opts.stream, { next_by_subj: opts.filterSubject, seq: handled + 1 }), stallMs);
      if (m === null || stopped) return;
      await handle(m, startedIn);
    }
  };

  // Set while the consumer is known lost and a new one could not be opened yet: asking the lost
  // one again only waits out another request timeout, so the next check goes straight to opening.
  let lost = false;
  const replace = async (why: string) => {
    opts.log.warn({ stream: opts.stream, filter: opts.filterSubject, handled }, why);
    await catchUp().catch((err: unknown) => opts.log.debug({ err }, "could not read directly either"));
    const stale = messages;
    try {
      consumer = await bounded(open(), stallMs * 2);
      lost = false;
      stale?.stop();
    } catch (err) {
      // The stream cannot answer yet (an election): the next check tries again.
      lost = true;
      opts.log.debug({ err }, "could not open a new consumer yet");
    }
    progressAt = Date.now();
  };

  const check = async () => {
    if (lost) return replace("follower still without a consumer; opening a new one");
    let pending: number;
    try {
      pending = (await bounded(consumer.info(), stallMs)).num_pending;
    } catch {
      return replace("follower's consumer did not answer; opening a new one");
    }
    if (pending > 0) return replace("follower stalled with events pending; opening a new consumer");
    progressAt = Date.now();
  };

  // A rewind shows neither as a stall nor as an error: the consumer just waits, after the
  // stream's new end, for sequences the stream is giving to other messages.
  let verifiedAt = Date.now();
  const rewoundTo = async (from: StreamPosition): Promise<number | undefined> => {
    const resumeAfter = await bounded(resumePoint(opts.jsm, opts.stream, opts.filterSubject, from), stallMs * 2);
    return resumeAfter < from.seq ? resumeAfter : undefined;
  };
  const verify = async () => {
    verifiedAt = Date.now();
    const from = { seq: handled, timeMs: handledAt };
    let resumeAfter: number | undefined;
    try {
      resumeAfter = await rewoundTo(from);
      // Asked again a moment later, about the same position, before acting: a leader elected a
      // moment ago, or the replica a direct read was answered by, may not hold yet what was
      // handled. A rewind stays one.
      if (resumeAfter !== undefined && !stopped) {
        await new Promise((r) => setTimeout(r, stallMs).unref());
        resumeAfter = await rewoundTo(from);
      }
    } catch (err) {
      opts.log.debug({ err }, "could not check the stream for a rewind");
      return;
    }
    // Messages handled after the resume point (if any) came after the rewind too: they are handed on again.
    if (stopped || resumeAfter === undefined) return;
    opts.log.warn({ stream: opts.stream, filter: opts.filterSubject, handled, resumeAfter }, "the stream went back behind this follower; going on from its new messages");
    epoch++;
    handled = resumeAfter;
    handledAt = 0;
    const stale = messages;
    messages = undefined;
    stale?.stop();
    handledAt = (await positionOf(opts.jsm, opts.stream, resumeAfter).catch(() => ({ seq: resumeAfter, timeMs: 0 }))).timeMs;
    opts.onRewind?.(resumeAfter);
    await replace("reading the stream's new messages");
  };

  // Each on its own: a check for a rewind that waits on a dead node must not hold up replacing a stalled consumer.
  let verifying = false;
  if (!stopped) {
    watchdog = setInterval(() => {
      if (stopped) return;
      if (!verifying && Date.now() - verifiedAt >= verifyMs) {
        verifying = true;
        void verify().finally(() => {
          verifying = false;
        });
      }
      if (checking || Date.now() - progressAt < stallMs) return;
      checking = true;
      void check().finally(() => {
        checking = false;
      });
    }, stallMs / 2);
    watchdog.unref();
  }

  return {
    stop() {
      stopped = true;
      clearInterval(watchdog);
      messages?.stop();
    },
  };
}

/**
 * A follower that outlives its consumer's failures: when one fails outright (a request the server
 * refuses, a consumer it cannot create again), `onLost` is told and a new follower goes on right
 * after the last message handled, tried again with back-off until it opens. Nothing is skipped, so
 * state kept current from the stream (a role cache, live access changes) is late, never wrong for
 * good. Only the first open's failure reaches the caller.
 */
export async function keepFollowing(
  opts: Omit<FollowOptions, "onError"> & {
    onLost: (err: unknown) => void;
    /** A follower opened again after `onLost`: what is stored from now on arrives again. */
    onFollowing?: () => void;
  },
): Promise<LiveFollower> {
  // "From now on" fixed once, with its stored time, so a follower opened again after a failure
  // before any message goes on from there, and can still tell if the stream went back meanwhile.
  let position: number | StreamPosition = opts.after ?? (await positionOf(opts.jsm, opts.stream, (await opts.jsm.streams.info(opts.stream)).state.last_seq));
  // Failures since the last message handled: the back-off grows with them, so a consumer that
  // fails again as soon as it opens is not opened again ten times a second.
  let failures = 0;
  let current: LiveFollower | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  // Bumped by each failure: a follower's late news after it is no longer the current one is ignored.
  let generation = 0;
  const follow = async (): Promise<LiveFollower> => {
    const mine = generation;
    const follower = await followLive({
      ...opts,
      after: position,
      onMessage: (m) => {
        position = { seq: m.seq, timeMs: storedAtMs(m) };
        failures = 0;
        return opts.onMessage(m);
      },
      onRewind: (resumeAfter) => {
        position = resumeAfter;
        // Its stored time, as soon as known: what tells a later rewind from this one.
        void positionOf(opts.jsm, opts.stream, resumeAfter).then(
          (at) => {
            if (position === resumeAfter) position = at;
          },
          () => undefined,
        );
        opts.onRewind?.(resumeAfter);
      },
      onError: (err) => {
        if (mine !== generation || stopped) return;
        generation++;
        current = undefined;
        opts.onLost(err);
        reopen(failures++);
      },
    });
    if (stopped || mine !== generation) follower.stop();
    else current = follower;
    return follower;
  };
  const reopen = (attempt: number): void => {
    if (stopped) return;
    retry = setTimeout(
      () => {
        follow().then(
          (follower) => {
            // Not if it failed again while opening: then it is lost, and says so once more later.
            if (!stopped && current === follower) opts.onFollowing?.();
          },
          (err: unknown) => {
            opts.log.warn({ err, stream: opts.stream, attempt }, "could not follow the stream again yet");
            reopen(attempt + 1);
          },
        );
      },
      Math.min(5_000, 100 * 2 ** attempt),
    );
    retry.unref();
  };
  await follow();
  return {
    stop() {
      stopped = true;
      clearTimeout(retry);
      current?.stop();
    },
  };
}

/** The position of the message at `seq` (none at 0, or when it is gone). */
async function positionOf(jsm: JetStreamManager, stream: string, seq: number): Promise<StreamPosition> {
  if (seq === 0) return { seq, timeMs: 0 };
  const m = await jsm.streams.getMessage(stream, { seq });
  return { seq, timeMs: m ? m.time.getTime() : 0 };
}

/**
 * `p`, or a rejection once `ms` have passed: a request to a dead node, or one queued on a
 * connection that is reconnecting, can outlast the client's own timeout many times over.
 */
function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}
