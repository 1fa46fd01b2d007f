import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { subjectDocId, subjectWorkspaceId, subjects, type AnyDomainEvent, type Role } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";
import { effectiveRole, evolve, type DocState, type WorkspaceAccess } from "./domain/document.ts";
import { documentGrants, evolveWorkspace, type WorkspaceState } from "./domain/workspace.ts";
import type { DocumentStore } from "./document-store.ts";
import { FollowedStates } from "./followed-states.ts";
import type { WorkspaceStore } from "./workspace-store.ts";

/**
 * Answers "what is this user's role on this document" from memory: documents and workspaces are
 * followed live (FollowedStates), and a document's state is handed out with the roles its
 * workspace gives (`workspaceAccess`), so a share and a workspace role are weighed in one place
 * (effectiveRole) by every route, /collab and the other services (rpc.docs.access).
 */
export class AccessCache {
  private readonly docs: FollowedStates<DocState>;
  private readonly workspaces: FollowedStates<WorkspaceState>;
  /** What each workspace gives, by the state it was computed from. */
  private readonly grantsMemo = new WeakMap<WorkspaceState, WorkspaceAccess | null>();

  constructor(
    private readonly store: DocumentStore,
    private readonly workspaceStore: WorkspaceStore,
    log: Logger,
    maxEntries = 50_000,
  ) {
    this.docs = new FollowedStates<DocState>(
      { name: "documents", filterSubject: subjects.allDocEvents(), idOf: subjectDocId.docEvents, load: async (id) => (await store.load(id)).state, evolve: (s, e, seq) => evolve(s, e, seq) },
      log,
      maxEntries,
    );
    this.workspaces = new FollowedStates<WorkspaceState>(
      { name: "workspaces", filterSubject: subjects.allWorkspaceEvents(), idOf: subjectWorkspaceId, load: async (id) => (await workspaceStore.load(id)).state, evolve: (s, e, seq) => evolveWorkspace(s, e, seq) },
      log,
      maxEntries,
    );
  }

  async start(js: JetStreamClient, jsm: JetStreamManager): Promise<void> {
    await Promise.all([this.docs.start(js, jsm), this.workspaces.start(js, jsm)]);
  }

  /** An event this replica just stored or read: see FollowedStates.observe. */
  observe(docId: string, event: AnyDomainEvent, seq: number, previousSeq?: number): void {
    this.docs.observe(docId, event, seq, previousSeq);
  }

  observeWorkspace(workspaceId: string, event: AnyDomainEvent, seq: number, previousSeq?: number): void {
    this.workspaces.observe(workspaceId, event, seq, previousSeq);
  }

  workspace(workspaceId: string): Promise<WorkspaceState> {
    return this.workspaces.state(workspaceId);
  }

  /** The workspace as stored, for commands that hand documents in or out of it: memory may lag a removal by a moment. */
  async freshWorkspace(workspaceId: string): Promise<WorkspaceState> {
    return (await this.workspaceStore.load(workspaceId)).state;
  }

  /** Who is in a workspace and the roles they have on its documents; null when it is deleted. */
  async grants(workspaceId: string): Promise<WorkspaceAccess | null> {
    const ws = await this.workspaces.state(workspaceId);
    let access = this.grantsMemo.get(ws);
    if (access === undefined) {
      access = documentGrants(ws);
      this.grantsMemo.set(ws, access);
    }
    return access;
  }

  /** The document, with the roles its workspace gives. */
  async state(docId: string): Promise<DocState> {
    const state = await this.docs.state(docId);
    return state.workspaceId === null ? state : { ...state, workspaceAccess: await this.grants(state.workspaceId) };
  }

  async roleOf(docId: string, userId: string): Promise<{ role: Role | null; state: DocState }> {
    const state = await this.state(docId);
    const role = state.exists && !state.trashed ? effectiveRole(state, userId) : null;
    return { role, state };
  }

  /** As roleOf, read from the stream: what was stored a moment ago counts even if not followed here yet. */
  async freshRoleOf(docId: string, userId: string): Promise<{ role: Role | null; state: DocState }> {
    const loaded = (await this.store.load(docId)).state;
    const state = loaded.workspaceId === null ? loaded : { ...loaded, workspaceAccess: documentGrants((await this.workspaceStore.load(loaded.workspaceId)).state) };
    return { role: state.exists && !state.trashed ? effectiveRole(state, userId) : null, state };
  }

  stop(): void {
    this.docs.stop();
    this.workspaces.stop();
  }
}
