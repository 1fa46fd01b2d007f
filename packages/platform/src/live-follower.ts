import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type StoredMsg } from "@nats-io/jetstream";
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
export async function followLive(opts: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  filterSubject: string;
  onMessage: (m: FollowedMessage) => Promise<void> | void;
  /** The stream itself failed (not a stall): the follower has stopped. */
  onError: (err: unknown) => void;
  log: Logger;
  /** @default 5000 */
  stallMs?: number;
  /** Follow from right after this stream sequence instead of from now on. */
  after?: number;
}): Promise<LiveFollower> {
  const stallMs = opts.stallMs ?? 5_000;
  // "From now on" as a position, so a replacement consumer can start from exactly there.
  let handled = opts.after ?? (await opts.jsm.streams.info(opts.stream)).state.last_seq;
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let progressAt = Date.now();
  let checking = false;
  let watchdog: NodeJS.Timeout | undefined;

  // Each message is handled after the one before it, even across a replacement whose old
  // consumer is still finishing a message: one queue for all of them.
  let turn: Promise<void> = Promise.resolve();
  const handle = (m: FollowedMessage): Promise<void> => {
    const next = turn.then(async () => {
      if (m.seq <= handled) return;
      handled = m.seq;
      await opts.onMessage(m);
    });
    turn = next.catch(() => undefined);
    return next;
  };

  // Only the newest attempt may deliver: an older one that finishes opening late stops at once.
  let generation = 0;
  const open = async (): Promise<{ info(): Promise<{ num_pending: number }> }> => {
    const mine = ++generation;
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
          await handle(m);
        }
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
    for (;;) {
      const m = await bounded(opts.jsm.direct.getMessage(opts.stream, { next_by_subj: opts.filterSubject, seq: handled + 1 }), stallMs);
      if (m === null || stopped) return;
      await handle(m);
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

  if (!stopped) {
    watchdog = setInterval(() => {
      if (stopped || checking || Date.now() - progressAt < stallMs) return;
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
