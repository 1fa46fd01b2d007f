import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Streams, subjectDocId, subjects, type AnyDomainEvent, type Role } from "@palimpsest/contracts";
import { decodeEvent, keepFollowing, type LiveFollower, type Logger } from "@palimpsest/platform";
import { evolve, type DocState } from "./domain/document.ts";
import type { DocumentStore } from "./document-store.ts";

interface Entry {
  state?: DocState;
  loading?: Promise<DocState>;
  /** Events that arrived while the state was loading; applied after, if newer. */
  pending: { event: AnyDomainEvent; seq: number }[];
}

/**
 * Answers "what is this user's role on this document" from memory. States are loaded from the
 * stream on first use and kept current by following every new DOCS event, so a role change is
 * seen here as soon as it is stored. Bounded: the least recently used documents are forgotten.
 */
export class AccessCache {
  private readonly entries = new Map<string, Entry>();
  private follower: LiveFollower | undefined;
  /** False while the follower is lost: then no state is kept, since nothing would keep it current. */
  private following = true;

  constructor(
    private readonly store: DocumentStore,
    private readonly log: Logger,
    private readonly maxEntries = 50_000,
  ) {}

  /** Follows new DOCS events from now on. Call before answering queries. */
  async start(js: JetStreamClient, jsm: JetStreamManager): Promise<void> {
    this.follower = await keepFollowing({
      js,
      jsm,
      stream: Streams.docs,
      filterSubject: subjects.allDocEvents(),
      log: this.log,
      onMessage: (m) => {
        const docId = subjectDocId.docEvents(m.subject);
        if (!docId) return;
        try {
          this.observe(docId, decodeEvent(m), m.seq);
        } catch (err) {
          this.log.error({ err, seq: m.seq }, "access cache could not apply an event; forgetting the document");
          this.entries.delete(docId);
        }
      },
      // Until it follows again nothing keeps a state current: each question reads the stream.
      onLost: (err) => {
        this.log.error({ err }, "access cache lost its stream; reading roles from the stream until it follows again");
        this.following = false;
        this.entries.clear();
      },
      onFollowing: () => {
        this.log.info("access cache follows its stream again");
        this.following = true;
      },
    });
  }

  /**
   * Applies an event that arrived from the stream (in order), or one this replica just stored
   * (`previousSeq` given: possibly ahead of an earlier event not seen here yet, which must not be
   * skipped; then the document is forgotten and loaded again from the stream when next asked).
   */
  observe(docId: string, event: AnyDomainEvent, seq: number, previousSeq?: number): void {
    const entry = this.entries.get(docId);
    if (!entry) return;
    if (entry.state) {
      if (seq <= entry.state.version) return;
      if (previousSeq === undefined || previousSeq === entry.state.version) entry.state = evolve(entry.state, event, seq);
      else this.entries.delete(docId);
    } else {
      entry.pending.push({ event, seq });
    }
  }

  async state(docId: string): Promise<DocState> {
    if (!this.following) return (await this.store.load(docId)).state;
    let entry = this.entries.get(docId);
    if (entry) {
      // Most recently used goes last.
      this.entries.delete(docId);
      this.entries.set(docId, entry);
      if (entry.state) return entry.state;
      if (entry.loading) return entry.loading;
    }
    entry = { pending: [] };
    this.entries.set(docId, entry);
    const e = entry;
    e.loading = this.store.load(docId).then(
      ({ state }) => {
        let s = state;
        for (const p of e.pending.splice(0).sort((a, b) => a.seq - b.seq)) if (p.seq > s.version) s = evolve(s, p.event, p.seq);
        e.state = s;
        e.loading = undefined;
        return s;
      },
      (err: unknown) => {
        this.entries.delete(docId);
        throw err;
      },
    );
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return e.loading;
  }

  async roleOf(docId: string, userId: string): Promise<{ role: Role | null; state: DocState }> {
    const state = await this.state(docId);
    const role = state.exists && !state.trashed ? (state.members.get(userId) ?? null) : null;
    return { role, state };
  }

  stop(): void {
    this.follower?.stop();
  }
}
