import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  type JetStreamClient,
  type JsMsg,
  type MsgRequest,
  type PubAck,
} from "@nats-io/jetstream";
import {
  AppError,
  EventEnvelope,
  EventHeaders,
  isEventType,
  parse,
  payloadSchemaOf,
  streamOfSubject,
  type AnyDomainEvent,
  type DomainEvent,
  type EventPayload,
  type EventType,
} from "@palimpsest/contracts";
import { randomUUID } from "node:crypto";
import { withAckInbox } from "./ack-inbox.ts";
import { busUnavailable } from "./bus-errors.ts";
import { SpanAttributes, SpanKind, injectTraceHeaders, tracingEnabled, withSpan, type Span, type SpanContext } from "./tracing.ts";

export function newEvent<T extends EventType>(type: T, data: EventPayload<T>, actorId?: string): DomainEvent<T> {
  return {
    id: randomUUID(),
    type,
    at: new Date().toISOString(),
    ...(actorId === undefined ? {} : { actorId }),
    data,
  };
}

export interface Appended {
  /** The stored event's place in the stream: the aggregate's new version. */
  streamSeq: number;
  /** True when another call (an earlier request, a concurrent retry) had stored this event already: this one stored nothing. */
  duplicate: boolean;
}

/** How long an append keeps trying while the stream cannot answer: longer than a leader election (4.5-6.4 s measured). */
const APPEND_DEADLINE_MS = 15_000;
const ATTEMPT_TIMEOUT_MS = 5_000;
const JS_TIMEOUT_MS = 5_000;

export interface DurablePublishOptions {
  /** The `Nats-Msg-Id`: a retry with the same id is stored once. */
  msgID: string;
  /** The stream that stores the subject, when it is not one of the product's (see streamOfSubject). */
  stream?: string;
  headers?: MsgHdrs;
  /** Stream sequence of the subject's last message, 0 for none: another writer in between fails the append. */
  expectedLastSubjectSeq?: number;
  /** @default 15000 */
  deadlineMs?: number;
  /**
   * How the append's producer span joins a trace when tracing is on: by default it is a child of
   * the active span (the command that appends); `newTrace` starts a trace of its own (an edit),
   * linked to `links` (the connection it came from).
   */
  trace?: { newTrace?: boolean; links?: readonly SpanContext[] };
}

function wrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * The message the subject got right after `expectedSeq`, if it carries `msgID`: then an append
 * refused for a wrong last sequence was in fact already stored, by an earlier try whose ack was
 * lost. A replicated stream on nats-server 2.10 answers such a retry "wrong last sequence"
 * (2.9, and a single server, answer "duplicate"), so without this a retried command would come
 * back as a false conflict. Read through the stream leader, not a direct get a follower may answer.
 */
async function storedEarlier(js: JetStreamClient, stream: string, subject: string, expectedSeq: number, msgID: string): Promise<number | undefined> {
  const jsm = await js.jetstreamManager(false);
  // The server takes `next_by_subj` in a message get; nats.js's type only lists seq and last_by_subj.
  const query = { seq: expectedSeq + 1, next_by_subj: subject } as unknown as MsgRequest;
  const next = await jsm.streams.getMessage(stream, query);
  return next && next.header.get(MsgIdHeader) === msgID ? next.seq : undefined;
}

const MsgIdHeader = "Nats-Msg-Id";

/**
 * Publishes to a stream and resolves once it is stored. While the stream cannot answer (a leader
 * election, a reconnect to another node) it tries again with the same message id for up to
 * `deadlineMs`, so an acknowledged write is never reported as failed just because its ack was
 * lost, and never stored twice. A refused expected sequence is checked against what the subject
 * holds (see storedEarlier).
 */
export async function publishDurably(js: JetStreamClient, subject: string, data: Uint8Array | string, opts: DurablePublishOptions): Promise<PubAck> {
  if (!tracingEnabled()) return publishWithRetries(js, subject, data, opts);
  return withSpan(
    `send ${opts.stream ?? streamOfSubject(subject)}`,
    {
      kind: SpanKind.PRODUCER,
      ...(opts.trace?.newTrace ? { parent: null } : {}),
      ...(opts.trace?.links?.length ? { links: opts.trace.links.map((context) => ({ context })) } : {}),
      attributes: {
        [SpanAttributes.messagingSystem]: "nats",
        [SpanAttributes.operationType]: "send",
        [SpanAttributes.destination]: subject,
        [SpanAttributes.messageId]: opts.msgID,
      },
    },
    async (span: Span | undefined) => {
      // Only here, with tracing on, does a stored message carry a trace context: consumers of the
      // stream continue the trace from it. Off, the stored message is exactly what it always was.
      const headers = opts.headers ?? natsHeaders();
      injectTraceHeaders(headers);
      const ack = await publishWithRetries(js, subject, data, { ...opts, headers });
      span?.setAttributes({ [SpanAttributes.streamSeq]: ack.seq, [SpanAttributes.duplicate]: ack.duplicate });
      return ack;
    },
  );
}

async function publishWithRetries(js: JetStreamClient, subject: string, data: Uint8Array | string, opts: DurablePublishOptions): Promise<PubAck> {
  const deadline = Date.now() + (opts.deadlineMs ?? APPEND_DEADLINE_MS);
  const publishOpts = {
    msgID: opts.msgID,
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.expectedLastSubjectSeq === undefined ? {} : { expect: { lastSubjectSequence: opts.expectedLastSubjectSeq } }),
  };
  // After an attempt whose outcome is unknown, finding the message stored means that attempt
  // stored it: this call's own write, not a duplicate of an earlier call's.
  const ours = (ack: PubAck, tried: number): PubAck => (tried > 0 && ack.duplicate ? { ...ack, duplicate: false } : ack);
  for (let attempt = 0; ; attempt++) {
    try {
      return ours(await js.publish(subject, data, { ...publishOpts, timeout: Math.max(500, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now())) }), attempt);
    } catch (err) {
      if (wrongLastSequence(err) && opts.expectedLastSubjectSeq !== undefined) {
        const seq = await storedEarlier(js, opts.stream ?? streamOfSubject(subject), subject, opts.expectedLastSubjectSeq, opts.msgID);
        if (seq !== undefined) return ours({ stream: opts.stream ?? streamOfSubject(subject), seq, duplicate: true, domain: "" } as PubAck, attempt);
        throw err;
      }
      // Through a timeout the message may or may not have been stored: trying again is safe.
      if (!busUnavailable(err)) throw err;
      if (Date.now() >= deadline) {
        const outcome = await unconfirmed(js, subject, opts, err);
        if (outcome instanceof AppError) throw outcome;
        return ours(outcome, attempt + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** Math.min(attempt, 3), 2_000)));
    }
  }
}

/**
 * The append ran out of time without an answer, so it may or may not be stored. Where the
 * subject's next sequence is known, one last look settles it (stored: the append succeeded);
 * otherwise the caller is told plainly that the outcome is unknown (TIMEOUT, not a generic
 * error), and that sending the same request again is safe.
 */
async function unconfirmed(js: JetStreamClient, subject: string, opts: DurablePublishOptions, cause: unknown): Promise<PubAck | AppError> {
  if (opts.expectedLastSubjectSeq !== undefined) {
    try {
      const seq = await Promise.race([
        storedEarlier(js, opts.stream ?? streamOfSubject(subject), subject, opts.expectedLastSubjectSeq, opts.msgID),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ATTEMPT_TIMEOUT_MS).unref()),
      ]);
      if (seq !== undefined) return { stream: opts.stream ?? streamOfSubject(subject), seq, duplicate: true, domain: "" } as PubAck;
    } catch {
      // The stream still cannot answer: the outcome stays unknown.
    }
  }
  return new AppError("TIMEOUT", "the change could not be confirmed in time, so it may or may not be saved; send the same request again (with the same Idempotency-Key) to make sure it is saved once", { cause });
}

/**
 * Appends one event to its aggregate's subject.
 * `expectedSeq` is the stream sequence of the aggregate's last event, 0 for "must not exist yet";
 * a mismatch means someone else wrote first and becomes CONFLICT. The event id is the
 * `Nats-Msg-Id`, so a retried append (here, or a client's retried command) is stored once.
 */
export async function appendEvent(
  js: JetStreamClient,
  subject: string,
  event: AnyDomainEvent,
  opts: { expectedSeq?: number; conflict?: () => AppError } = {},
): Promise<Appended> {
  const h = natsHeaders();
  h.set(EventHeaders.type, event.type);
  try {
    const ack = await publishDurably(js, subject, JSON.stringify(event), {
      msgID: event.id,
      headers: h,
      ...(opts.expectedSeq === undefined ? {} : { expectedLastSubjectSeq: opts.expectedSeq }),
    });
    return { streamSeq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    if (wrongLastSequence(err)) {
      throw opts.conflict?.() ?? new AppError("CONFLICT", "the resource was changed by someone else; reload and retry", { cause: err });
    }
    throw err;
  }
}

/** Decodes and validates a stored event; an event of an unknown type or shape is a poison message. */
export function decodeEvent(msg: Pick<JsMsg, "json">): AnyDomainEvent {
  const envelope = parse(EventEnvelope, msg.json<unknown>(), "event");
  if (!isEventType(envelope.type)) throw new AppError("VALIDATION_FAILED", `unknown event type ${envelope.type}`);
  parse(payloadSchemaOf(envelope.type), envelope.data, envelope.type);
  return envelope as AnyDomainEvent;
}

/** The JetStream client every service appends and reads with: appends through an ack inbox (see withAckInbox). */
export function jetstreamOf(nc: NatsConnection): JetStreamClient {
  return withAckInbox(jetstream(nc, { timeout: JS_TIMEOUT_MS }), nc, JS_TIMEOUT_MS);
}
