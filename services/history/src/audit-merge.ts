import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { auditOrderKey, readEditHeaders } from "@palimpsest/contracts";
import { discardConsumer } from "@palimpsest/platform";

/**
 * Reading the audit trail's sources from the streams and putting them in one order: a subject's
 * messages up to a bound, two subjects merged by stream sequence, and each message's place in
 * the trail by time.
 */

/** A stream subject's messages from `from` through `bound`, in order; the caller knows at least one exists from `from` on. */
export async function* readSubject(js: JetStreamClient, stream: string, subject: string, from: number, bound: number, maxMessages: number): AsyncGenerator<JsMsg> {
  const consumer = await js.consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
  const messages = await consumer.consume({ max_messages: maxMessages });
  // Should the stream lose messages while we read, stop rather than wait for ever.
  let lastSeen = performance.now();
  const watchdog = setInterval(() => {
    if (performance.now() - lastSeen > 10_000) void messages.stop();
  }, 1_000);
  try {
    for await (const m of messages) {
      lastSeen = performance.now();
      if (m.seq > bound) break;
      yield m;
      if (m.seq >= bound || m.info.pending === 0) break;
      lastSeen = performance.now();
    }
  } finally {
    clearInterval(watchdog);
    discardConsumer(consumer, messages);
  }
}

/** Two readers of one stream as one, in stream order: the document's events and its file events form one chain. */
export async function* mergeBySeq<M extends { seq: number }>(a: AsyncGenerator<M> | undefined, b: AsyncGenerator<M> | undefined): AsyncGenerator<M> {
  if (!a || !b) {
    const only = a ?? b;
    if (only) yield* only;
    return;
  }
  try {
    let x = await a.next();
    let y = await b.next();
    while (!x.done || !y.done) {
      if (!x.done && (y.done || x.value.seq < y.value.seq)) {
        yield x.value;
        x = await a.next();
      } else if (!y.done) {
        yield y.value;
        y = await b.next();
      }
    }
  } finally {
    await a.return(undefined);
    await b.return(undefined);
  }
}

/** An iterator whose next value can be looked at before it is taken. */
export class Peekable<T> {
  private head: IteratorResult<T> | undefined;
  constructor(private readonly it: AsyncIterator<T> | undefined) {}
  async peek(): Promise<T | undefined> {
    if (!this.it) return undefined;
    this.head ??= await this.it.next();
    return this.head.done ? undefined : this.head.value;
  }
  take(): void {
    this.head = undefined;
  }
  async close(): Promise<void> {
    await this.it?.return?.(undefined);
  }
}

const orderKeys = new WeakMap<JsMsg, number>();
/** A message's place in the merged trail (memoised: the head of one stream is compared with many of the other). */
export function orderKey(m: JsMsg, time: (m: JsMsg) => unknown): number {
  let k = orderKeys.get(m);
  if (k === undefined) {
    k = auditOrderKey(time(m));
    orderKeys.set(m, k);
  }
  return k;
}

export function editTime(m: JsMsg): string {
  return readEditHeaders(m.headers, m.info.timestampNanos).time;
}

export function eventTime(m: JsMsg): unknown {
  try {
    const e = m.json<unknown>();
    return e !== null && typeof e === "object" ? (e as Record<string, unknown>)["at"] : undefined;
  } catch {
    return undefined;
  }
}
