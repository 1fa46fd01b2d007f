/**
 * What each user has open on this replica: connections per document. Bounds what one account can
 * make a replica hold (sockets, loaded documents) however many tabs, scripts or tokens it uses.
 * Counted per replica, always (it is what bounds this replica's memory); the limits over every
 * replica are UserConnectionLeases'.
 */
export class UserConnections {
  private readonly open_ = new Map<string, Map<string, number>>();

  constructor(
    private readonly maxConnections: number,
    private readonly maxDocuments: number,
  ) {}

  /** Counts a new connection, or says why it is refused (nothing is counted then). */
  open(userId: string, docId: string): string | null {
    const docs = this.open_.get(userId) ?? new Map<string, number>();
    let connections = 0;
    for (const n of docs.values()) connections += n;
    if (connections >= this.maxConnections) return `too many open connections: at most ${this.maxConnections} per user; close some tabs and try again`;
    if (!docs.has(docId) && docs.size >= this.maxDocuments) return `too many open documents: at most ${this.maxDocuments} per user; close some and try again`;
    docs.set(docId, (docs.get(docId) ?? 0) + 1);
    this.open_.set(userId, docs);
    return null;
  }

  close(userId: string, docId: string): void {
    const docs = this.open_.get(userId);
    const n = docs?.get(docId);
    if (!docs || n === undefined) return;
    if (n > 1) docs.set(docId, n - 1);
    else docs.delete(docId);
    if (docs.size === 0) this.open_.delete(userId);
  }
}
