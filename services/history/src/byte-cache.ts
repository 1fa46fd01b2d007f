/**
 * A least-recently-used cache bounded by bytes, for immutable history data (snapshot bytes and
 * runs of stored updates): the same old versions are asked for again and again while someone
 * scrubs a timeline, and none of it ever changes.
 */
export class ByteCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: V, bytes: number): void {
    if (bytes > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) {
      this.total -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    while (this.total > this.maxBytes) {
      const [k, e] = this.entries.entries().next().value as [string, { value: V; bytes: number }];
      this.entries.delete(k);
      this.total -= e.bytes;
    }
  }

  /** Drops every entry whose key starts with `prefix` (an erased document's). */
  deletePrefix(prefix: string): void {
    for (const [k, e] of this.entries) {
      if (!k.startsWith(prefix)) continue;
      this.entries.delete(k);
      this.total -= e.bytes;
    }
  }
}
