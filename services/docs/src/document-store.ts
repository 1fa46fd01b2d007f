import { createHash, randomUUID } from "node:crypto";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { AppError, Streams, subjects, type AnyDomainEvent } from "@palimpsest/contracts";
import { appendEvent, decodeEvent, discardConsumer } from "@palimpsest/platform";
import { decide, emptyDoc, evolve, type DocCommand, type DocState } from "./domain/document.ts";

export interface Executed {
  state: DocState;
  /** Events this command stored (empty when it changed nothing or was a retry). */
  events: { event: AnyDomainEvent; seq: number }[];
}

/** Ids derived from the caller's idempotency key: a retried command produces the same event id. */
export function idempotentId(parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The event-sourced repository of documents: a document's state is the fold of the events on
 * its subject; a command is decided against it and appended with the version it was decided on,
 * so of two concurrent commands on one version exactly one is stored and the other is a CONFLICT.
 */
export class DocumentStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  async load(docId: string): Promise<{ state: DocState; eventIds: Set<string> }> {
    const subject = subjects.docEvents(docId);
    const eventIds = new Set<string>();
    const last = await this.jsm.streams.getMessage(Streams.docs, { last_by_subj: subject });
    let state = emptyDoc(docId);
    if (!last) return { state, eventIds };
    const consumer = await this.js.consumers.get(Streams.docs, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 1_000 });
    try {
      for await (const m of messages) {
        const event = decodeEvent(m);
        eventIds.add(event.id);
        state = evolve(state, event, m.seq);
        if (m.seq >= last.seq) break;
      }
    } finally {
      discardConsumer(consumer, messages);
    }
    return { state, eventIds };
  }

  async execute(
    docId: string,
    command: DocCommand,
    actorId: string,
    opts: { idempotencyKey?: string; expectedVersion?: number; apply: (event: AnyDomainEvent, seq: number, previousSeq: number) => Promise<void> },
  ): Promise<Executed> {
    const { state, eventIds } = await this.load(docId);
    const eventId = opts.idempotencyKey ? idempotentId([actorId, docId, command.type, opts.idempotencyKey]) : undefined;
    // A retry of a command that was already stored: answer as the first time, store nothing.
    if (eventId && eventIds.has(eventId)) return { state, events: [] };
    if (opts.expectedVersion !== undefined && opts.expectedVersion !== state.version) {
      throw conflict(state.version);
    }
    const decided = decide(state, command, actorId);
    let next = state;
    const stored: Executed["events"] = [];
    for (const [i, d] of decided.entries()) {
      const event = { id: eventId && i === 0 ? eventId : randomUUID(), type: d.type, at: new Date().toISOString(), actorId, data: d.data } as AnyDomainEvent;
      const { streamSeq } = await appendEvent(this.js, subjects.docEvents(docId), event, {
        expectedSeq: next.version,
        conflict: () => conflict(next.version),
      });
      await opts.apply(event, streamSeq, next.version);
      next = evolve(next, event, streamSeq);
      stored.push({ event, seq: streamSeq });
    }
    return { state: next, events: stored };
  }
}

function conflict(decidedOnVersion: number): AppError {
  return new AppError("CONFLICT", "the document was changed by someone else; reload and try again", {
    details: { decidedOnVersion },
  });
}
