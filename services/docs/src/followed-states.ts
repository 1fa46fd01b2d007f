import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Streams, type AnyDomainEvent } from "@palimpsest/contracts";
import { decodeEvent, keepFollowing, type LiveFollower, type Logger } from "@palimpsest/platform";

interface Entry<S> {
  state?: S;
  loading?: Promise<S>;
  /** Events that arrived while the state was loading; applied after, if newer. */
  pending: { event: AnyDomainEvent; seq: number }[];
}

/** How to keep one kind of aggregate (documents, workspaces) in memory. */
export interface FollowedKind<S extends { version: number }> {
  /** Names the subjects in logs. */
  name: string;
  /** Every subject of the kind, in the DOCS stream. */
  filterSubject: string;
  /** The aggregate's id in one of those subjects. */
  idOf(subject: string): string | undefined;
  load(id: string): Promise<S>;
  evolve(state: S, event: AnyDomainEvent, seq: number): S;
}

/**
 * Aggregates of one kind, in memory: loaded from the stream on first use and kept current by
 * following every new event of the kind, so a change is seen here as soon as it is stored.
 * Bounded: the least recently used are forgotten.
 */
export class FollowedStates<S extends { version: number }> {
  private readonly entries = new Map<string, Entry<S>>();
  private follower: LiveFollower | undefined;
  /** False while the follower is lost: then no state is kept, since nothing would keep it current. */
  private following = true;

  constructor(
    private readonly kind: FollowedKind<S>,
    private readonly log: Logger,
    private readonly maxEntries = 50_000,
  ) {}

  /** Follows new events from now on. Call before answering queries. */
  async start(js: JetStreamClient, jsm: JetStreamManager): Promise<void> {
    this.follower = await keepFollowing({
      js,
      jsm,
      stream: Streams.docs,
      filterSubject: this.kind.filterSubject,
      log: this.log,
      onMessage: (m) => {
        const id = this.kind.idOf(m.subject);
        if (!id) return;
        try {
          this.observe(id, decodeEvent(m), m.seq);
        } catch (err) {
          this.log.error({ err, seq: m.seq, kind: this.kind.name }, "could not apply an event to a followed state; forgetting it");
          this.entries.delete(id);
        }
      },
      // Until it follows again nothing keeps a state current: each question reads the stream.
      onLost: (err) => {
        this.log.error({ err, kind: this.kind.name }, "lost the stream of followed states; reading them from the stream until it follows again");
        this.following = false;
        this.entries.clear();
      },
      onFollowing: () => {
        this.log.info({ kind: this.kind.name }, "following the stream again");
        this.following = true;
      },
    });
  }

  /**
   * Applies an event that arrived from the stream (in order), or one this replica just stored
   * (`previousSeq` given: possibly ahead of an earlier event not seen here yet, which must not be
   * skipped; then the aggregate is forgotten and loaded again from the stream when next asked).
   */
  observe(id: string, event: AnyDomainEvent, seq: number, previousSeq?: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (entry.state) {
      if (seq <= entry.state.version) return;
      if (previousSeq === undefined || previousSeq === entry.state.version) entry.state = this.kind.evolve(entry.state, event, seq);
      else this.entries.delete(id);
    } else {
      entry.pending.push({ event, seq });
    }
  }

  async state(id: string): Promise<S> {
    if (!this.following) return this.kind.load(id);
    let entry = this.entries.get(id);
    if (entry) {
      // Most recently used goes last.
      this.entries.delete(id);
      this.entries.set(id, entry);
      if (entry.state) return entry.state;
      if (entry.loading) return entry.loading;
    }
    entry = { pending: [] };
    this.entries.set(id, entry);
    const e = entry;
    e.loading = this.kind.load(id).then(
      (state) => {
        let s = state;
        for (const p of e.pending.splice(0).sort((a, b) => a.seq - b.seq)) if (p.seq > s.version) s = this.kind.evolve(s, p.event, p.seq);
        e.state = s;
        e.loading = undefined;
        return s;
      },
      (err: unknown) => {
        this.entries.delete(id);
        throw err;
      },
    );
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return e.loading;
  }

  stop(): void {
    this.follower?.stop();
  }
}
