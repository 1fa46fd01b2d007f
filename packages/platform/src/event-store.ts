import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  type JetStreamClient,
  type JsMsg,
} from "@nats-io/jetstream";
import {
  AppError,
  EventEnvelope,
  EventHeaders,
  isEventType,
  parse,
  payloadSchemaOf,
  type AnyDomainEvent,
  type DomainEvent,
  type EventPayload,
  type EventType,
} from "@palimpsest/contracts";
import { randomUUID } from "node:crypto";

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
  /** Stream sequence of the stored event: the aggregate's new version. */
  seq: number;
  /** True when the event id was seen within the duplicate window and nothing new was stored. */
  duplicate: boolean;
}

/**
 * Appends one event to its aggregate's subject.
 * `expectedSeq` is the stream sequence of the aggregate's last event, 0 for "must not exist yet";
 * a mismatch means someone else wrote first and becomes CONFLICT. The event id is the
 * `Nats-Msg-Id`, so a retried append inside the duplicate window is stored once.
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
    const ack = await js.publish(subject, JSON.stringify(event), {
      msgID: event.id,
      headers: h,
      ...(opts.expectedSeq === undefined ? {} : { expect: { lastSubjectSequence: opts.expectedSeq } }),
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    if (
      err instanceof JetStreamApiError &&
      (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
        err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
    ) {
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

export function jetstreamOf(nc: NatsConnection): JetStreamClient {
  return jetstream(nc, { timeout: 5_000 });
}
