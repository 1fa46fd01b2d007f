import { nanos } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "./logger.ts";
import { wakeableSleep } from "./wakeable-sleep.ts";
import { SpanAttributes, tracingEnabled, withConsumerSpan } from "./tracing.ts";

export type Outcome = "done" | "give-up";

export interface DurableWorkerSpec {
  /** The durable consumer's name: every replica pulls from the same one, so each message goes to one of them. */
  durable: string;
  stream: string;
  filterSubject: string;
  /** How long a replica may hold a message before it is given to another (a crashed replica's work is retried). */
  ackWaitMs: number;
  /** Deliveries before a message that keeps failing is left alone. */
  maxDeliver: number;
  /** Messages one replica holds at once. */
  inFlight: number;
  /**
   * Where a new consumer starts: `all` (the default) so work stored before it existed is done;
   * `new` for side effects that only concern what happens from now on (webhooks: no endpoint
   * existed before their consumer did).
   */
  startAt?: "all" | "new";
  /** "done" acks; "give-up" terminates (a message that can never succeed); a throw is retried later. */
  handle(m: JsMsg): Promise<Outcome>;
}

export interface DurableWorker {
  stop(): Promise<void>;
}

/**
 * Side effects of events (thumbnails, deleting objects) done at least once: a durable JetStream
 * pull consumer shared by the replicas, explicit acks, a retry with back-off for failures, and a
 * message redelivered to another replica when the one holding it dies. Handlers must be idempotent.
 */
export function runDurableWorker(opts: { js: JetStreamClient; jsm: JetStreamManager; spec: DurableWorkerSpec; log: Logger }): DurableWorker {
  const { js, jsm, spec } = opts;
  const log = opts.log.child({ worker: spec.durable });
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  const { sleep, wake } = wakeableSleep();

  async function ensureConsumer(): Promise<void> {
    const settings = { ack_wait: nanos(spec.ackWaitMs), max_deliver: spec.maxDeliver, max_ack_pending: 1_000 };
    const existing = await jsm.consumers.info(spec.stream, spec.durable).catch(() => undefined);
    if (existing) {
      await jsm.consumers.update(spec.stream, spec.durable, settings);
      return;
    }
    await jsm.consumers.add(spec.stream, {
      ...settings,
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      // From the start of the stream the first time: work stored before the consumer existed is not skipped.
      deliver_policy: spec.startAt === "new" ? DeliverPolicy.New : DeliverPolicy.All,
      filter_subject: spec.filterSubject,
    });
  }

  async function process(m: JsMsg): Promise<void> {
    try {
      // With tracing on, the work (a thumbnail, a deletion) joins the trace of the request that stored the event.
      const outcome = tracingEnabled()
        ? await withConsumerSpan(
            `process ${spec.stream}`,
            [m],
            { [SpanAttributes.messagingSystem]: "nats", [SpanAttributes.operationType]: "process", [SpanAttributes.destination]: m.subject, [SpanAttributes.consumerGroup]: spec.durable, [SpanAttributes.streamSeq]: m.seq },
            () => spec.handle(m),
          )
        : await spec.handle(m);
      if (outcome === "give-up") m.term();
      else m.ack();
    } catch (err) {
      const attempt = m.info.deliveryCount;
      if (attempt >= spec.maxDeliver) {
        log.error({ err, seq: m.seq, attempt }, "giving up on an event after repeated failures");
        m.term();
      } else {
        log.warn({ err, seq: m.seq, attempt }, "event handling failed; it will be retried");
        m.nak(Math.min(30_000, 1_000 * 2 ** (attempt - 1)));
      }
    }
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await ensureConsumer();
        const consumer = await js.consumers.get(spec.stream, spec.durable);
        // A consumer that vanished (its stream deleted and created again) ends the pull, so the
        // loop makes it again; otherwise nats.js would keep asking for it and never get work again.
        messages = await consumer.consume({ max_messages: spec.inFlight, abort_on_missing_resource: true });
        for await (const m of messages) await process(m);
        if (!stopped) await sleep(1_000);
      } catch (err) {
        if (stopped) break;
        log.error({ err }, "worker stopped pulling; starting again");
        await sleep(1_000);
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      messages?.stop();
      wake();
      await loop;
    },
  };
}
