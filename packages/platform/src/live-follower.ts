import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "./logger.ts";

export interface LiveFollower {
  stop(): void;
}

/**
 * Follows the events stored on `filterSubject` from now on, in order, through an ordered consumer
 * that is replaced when it stalls. The consumer lives on one JetStream node; when that node dies,
 * nats.js notices only after missed heartbeats (20-45 s measured on a 3-node cluster). So a
 * follower that has received nothing for `stallMs` asks its consumer how much is pending, and when
 * some is, or the consumer does not answer, opens a new one right after the last event it handled:
 * nothing is skipped and nothing handled twice.
 *
 * `onMessage` runs for one message at a time; an error it throws is the caller's to log.
 */
export async function followLive(opts: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  filterSubject: string;
  onMessage: (m: JsMsg) => Promise<void> | void;
  /** The stream itself failed (not a stall): the follower has stopped. */
  onError: (err: unknown) => void;
  log: Logger;
  /** @default 5000 */
  stallMs?: number;
}): Promise<LiveFollower> {
  const stallMs = opts.stallMs ?? 5_000;
  // "From now on" as a position, so a replacement consumer can start from exactly there.
  let handled = (await opts.jsm.streams.info(opts.stream)).state.last_seq;
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let progressAt = Date.now();
  let checking = false;

  const open = async (): Promise<{ info(): Promise<{ num_pending: number }> }> => {
    const consumer = await opts.js.consumers.get(opts.stream, {
      filter_subjects: opts.filterSubject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: handled + 1,
    });
    const current = await consumer.consume({ max_messages: 1_000 });
    messages = current;
    void (async () => {
      try {
        for await (const m of current) {
          progressAt = Date.now();
          if (m.seq <= handled) continue;
          handled = m.seq;
          await opts.onMessage(m);
        }
      } catch (err) {
        if (current === messages && !stopped) opts.onError(err);
      }
    })();
    return consumer;
  };
  let consumer = await open();

  const replace = async (why: string) => {
    opts.log.warn({ stream: opts.stream, filter: opts.filterSubject, handled }, why);
    const stale = messages;
    try {
      consumer = await open();
      stale?.stop();
    } catch (err) {
      // The stream cannot answer yet (an election): the next check tries again.
      opts.log.debug({ err }, "could not open a new consumer yet");
    }
    progressAt = Date.now();
  };

  const watchdog = setInterval(() => {
    if (stopped || checking || Date.now() - progressAt < stallMs) return;
    checking = true;
    consumer
      .info()
      .then(
        async (info) => {
          if (info.num_pending > 0) await replace("follower stalled with events pending; opening a new consumer");
          else progressAt = Date.now();
        },
        () => replace("follower's consumer did not answer; opening a new one"),
      )
      .finally(() => {
        checking = false;
      });
  }, stallMs / 2);
  watchdog.unref();

  return {
    stop() {
      stopped = true;
      clearInterval(watchdog);
      messages?.stop();
    },
  };
}
