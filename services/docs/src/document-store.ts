import { createHash, randomUUID } from "node:crypto";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { AppError, EventPayloads, Streams, subjects, type AnyDomainEvent, type ApiTokenScope } from "@palimpsest/contracts";
import { appendEvent, decodeEvent } from "@palimpsest/platform";
import { readSubjectEvents } from "./subject-events.ts";
import { decide, emptyDoc, evolve, type DocCommand, type DocState, type WorkspaceAccess } from "./domain/document.ts";

export interface Executed {
  state: DocState;
  /** Events this command stored (empty when it changed nothing or was a retry of a try that stored them all). */
  events: { event: AnyDomainEvent; seq: number }[];
}

/** What an earlier try of the same command (same caller, document, command and idempotency key) stored. */
interface EarlierTry {
  /** The document as that try decided on it, right before its first event. */
  before: DocState;
  types: Set<string>;
  /** The version its last stored event made. */
  lastSeq: number;
  /** Stored by a release whose commands gave only their first event an id from the key. */
  legacy: boolean;
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
  /** `grants`: the roles a workspace gives on its documents (weighed with the document's shares when deciding). */
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly grants: (workspaceId: string) => Promise<WorkspaceAccess | null> = async () => null,
  ) {}

  /** The state with what its workspace gives, for deciding. */
  private async withInherited(state: DocState): Promise<DocState> {
    return state.workspaceId === null ? state : { ...state, workspaceAccess: await this.grants(state.workspaceId) };
  }

  /** The document's state; with `ofCommand` (event ids), also what of them is stored, and the state before the first. */
  async load(docId: string, ofCommand?: ReadonlySet<string>, legacyId?: string): Promise<{ state: DocState; eventIds: Set<string>; earlier?: EarlierTry }> {
    const subject = subjects.docEvents(docId);
    const eventIds = new Set<string>();
    const last = await this.jsm.streams.getMessage(Streams.docs, { last_by_subj: subject });
    let state = emptyDoc(docId);
    let earlier: EarlierTry | undefined;
    if (!last) return { state, eventIds };
    const apply = (m: { seq: number; json<T>(): T }) => {
      const event = decodeEvent(m);
      eventIds.add(event.id);
      if (ofCommand?.has(event.id)) {
        earlier ??= { before: state, types: new Set(), lastSeq: 0, legacy: false };
        earlier.types.add(event.type);
        earlier.lastSeq = m.seq;
        if (event.id === legacyId) earlier.legacy = true;
      }
      state = evolve(state, event, m.seq);
    };
    await readSubjectEvents(this.js, this.jsm, subject, last.seq, apply);
    return { state, eventIds, ...(earlier ? { earlier } : {}) };
  }

  /**
   * Decides a command on the document's current state and appends its events, one after the
   * other, each expecting the version the one before made.
   *
   * With an idempotency key, each event's id is derived from the key and the event's type, so a
   * retried command (the caller saw a timeout, a lost reply or a failure part way) is recognised
   * by what of it is stored: it is decided again on the state the earlier try decided on, and
   * only what that try did not store yet is appended. A command of several events (purge: trashed,
   * then purged) so ends up stored whole however often it is tried, and a retry after it was
   * stored whole changes nothing and is answered as the first try was.
   */
  async execute(
    docId: string,
    command: DocCommand,
    actorId: string,
    opts: { idempotencyKey?: string; expectedVersion?: number; scopes?: readonly ApiTokenScope[] | undefined; apply: (event: AnyDomainEvent, seq: number, previousSeq: number) => Promise<void> },
  ): Promise<Executed> {
    const key = opts.idempotencyKey;
    const idOf = (type: string) => idempotentId([actorId, docId, command.type, key ?? "", type]);
    // Stored before ids named the event type: the first event of a command took the key's id alone.
    const legacyId = key ? idempotentId([actorId, docId, command.type, key]) : undefined;
    const ids = key ? new Set([legacyId!, ...Object.keys(EventPayloads).map(idOf)]) : undefined;
    const loaded = await this.load(docId, ids, legacyId);
    const state = await this.withInherited(loaded.state);
    const earlier = loaded.earlier ? { ...loaded.earlier, before: await this.withInherited(loaded.earlier.before) } : undefined;
    let decided: ReturnType<typeof decide>;
    if (earlier) {
      decided = earlier.legacy ? [] : missingAfter(earlier, command, actorId, opts.scopes);
      // Someone else changed the document since: what is missing was decided on a state that is
      // gone (a purge after an untrash, a member who was removed meanwhile), so it is not stored.
      if (decided.length > 0 && state.version !== earlier.lastSeq) throw conflict(state.version);
    } else {
      if (opts.expectedVersion !== undefined && opts.expectedVersion !== state.version) throw conflict(state.version);
      decided = decide(state, command, actorId, opts.scopes);
    }
    let next = state;
    const stored: Executed["events"] = [];
    for (const d of decided) {
      // An empty actor is the service itself (a webhook it disabled): the event names nobody.
      const event = { id: key ? idOf(d.type) : randomUUID(), type: d.type, at: new Date().toISOString(), ...(actorId ? { actorId } : {}), data: d.data } as AnyDomainEvent;
      const { streamSeq, duplicate } = await appendEvent(this.js, subjects.docEvents(docId), event, {
        expectedSeq: next.version,
        conflict: () => conflict(next.version),
      });
      await opts.apply(event, streamSeq, next.version);
      next = evolve(next, event, streamSeq);
      // A duplicate: a concurrent try of the same command stored this very event, and reports it
      // (and does what follows from it, such as mailing an invitation); this try goes on from it.
      if (!duplicate) stored.push({ event, seq: streamSeq });
    }
    return { state: next, events: stored };
  }
}

/**
 * What an earlier try of the command did not store: the command decided again on the state that
 * try decided on, less the events it stored. A command that can no longer be decided there (an
 * invitation that has expired since) is taken as done: it is answered as the first try was.
 */
function missingAfter(earlier: EarlierTry, command: DocCommand, actorId: string, scopes: readonly ApiTokenScope[] | undefined): ReturnType<typeof decide> {
  try {
    return decide(earlier.before, command, actorId, scopes).filter((d) => !earlier.types.has(d.type));
  } catch {
    return [];
  }
}

function conflict(decidedOnVersion: number): AppError {
  return new AppError("CONFLICT", "the document was changed by someone else; reload and try again", {
    details: { decidedOnVersion },
  });
}
