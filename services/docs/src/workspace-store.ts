import { randomUUID } from "node:crypto";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { AppError, Streams, subjects, type AnyDomainEvent } from "@palimpsest/contracts";
import { appendEvent, decodeEvent } from "@palimpsest/platform";
import { decideWorkspace, emptyWorkspace, evolveWorkspace, type WorkspaceCommand, type WorkspaceState } from "./domain/workspace.ts";
import { idempotentId } from "./document-store.ts";
import { readSubjectEvents } from "./subject-events.ts";

/**
 * The event-sourced repository of workspaces, as DocumentStore is of documents: a command is
 * decided on the fold of the workspace's events and appended with the version it was decided
 * on, so of two concurrent commands on one version exactly one is stored.
 */
export class WorkspaceStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  async load(workspaceId: string): Promise<{ state: WorkspaceState; eventIds: Set<string> }> {
    const subject = subjects.workspaceEvents(workspaceId);
    let state = emptyWorkspace(workspaceId);
    const eventIds = new Set<string>();
    const last = await this.jsm.streams.getMessage(Streams.docs, { last_by_subj: subject });
    if (!last) return { state, eventIds };
    await readSubjectEvents(this.js, this.jsm, subject, last.seq, (m) => {
      const event = decodeEvent(m);
      eventIds.add(event.id);
      state = evolveWorkspace(state, event, m.seq);
    });
    return { state, eventIds };
  }

  /**
   * Decides and appends, each event expecting the version the one before made. With an
   * idempotency key, event ids come from it: a retried command whose events are all stored is
   * answered from the state, and one stored in part is finished.
   */
  async execute(
    workspaceId: string,
    command: WorkspaceCommand,
    actorId: string,
    opts: { idempotencyKey?: string; apply: (event: AnyDomainEvent, seq: number, previousSeq: number) => Promise<void> },
  ): Promise<{ state: WorkspaceState; events: { event: AnyDomainEvent; seq: number }[] }> {
    const key = opts.idempotencyKey;
    // The one the command is about is in the id too: a key reused for another member is another command.
    const about = "userId" in command ? command.userId : "email" in command ? command.email : "";
    const idOf = (type: string) => idempotentId([actorId, workspaceId, `workspace-${command.type}`, about, key ?? "", type]);
    const { state, eventIds } = await this.load(workspaceId);
    let decided: ReturnType<typeof decideWorkspace>;
    try {
      decided = decideWorkspace(state, command, actorId);
    } catch (err) {
      // A retried create whose first try stored the workspace: what that try did not store yet is
      // stored now (the ids it already has are skipped below), and the retry is answered as it was.
      if (key && command.type === "create" && err instanceof AppError && err.code === "CONFLICT" && eventIds.has(idOf("workspace.created.v1"))) {
        decided = decideWorkspace(emptyWorkspace(workspaceId), command, actorId);
      } else throw err;
    }
    let next = state;
    const stored: { event: AnyDomainEvent; seq: number }[] = [];
    for (const d of decided) {
      const event = { id: key ? idOf(d.type) : randomUUID(), type: d.type, at: new Date().toISOString(), actorId, data: d.data } as AnyDomainEvent;
      if (eventIds.has(event.id)) continue;
      const { streamSeq, duplicate } = await appendEvent(this.js, subjects.workspaceEvents(workspaceId), event, {
        expectedSeq: next.version,
        conflict: () => new AppError("CONFLICT", "the workspace was changed by someone else; reload and try again", { details: { decidedOnVersion: next.version } }),
      });
      await opts.apply(event, streamSeq, next.version);
      next = evolveWorkspace(next, event, streamSeq);
      if (!duplicate) stored.push({ event, seq: streamSeq });
    }
    return { state: next, events: stored };
  }
}
