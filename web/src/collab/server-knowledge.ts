// What the server is known to have stored of a document, learned from what it sends us.
//
// The y-websocket protocol has no acknowledgement, but the sync server's copy of a document
// only ever changes by updates read back from the event store, so anything it tells us it has
// is durable. It tells us in three ways: its state vector (sync step 1, on connect and on its
// periodic resync), and the updates it sends (sync step 2 and live updates), whose structs it
// has and whose delete sets it has applied; a step 2 always carries its whole delete set.
// To ask, we send a sync step 1 whose state vector claims a little less of our own unconfirmed
// edits than we have: the server answers with those bytes only if it stored them.

import * as Y from "yjs";

type DeleteSet = ReturnType<typeof Y.createDeleteSet>;
interface DeleteRange {
  clock: number;
  len: number;
}

/** True when [clock, clock + len) lies inside one of `ranges` (sorted, merged, as Yjs keeps them). */
function coveredBy(ranges: readonly DeleteRange[] | undefined, clock: number, len: number): boolean {
  if (!ranges) return false;
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const range = ranges[mid];
    if (!range) return false;
    if (clock < range.clock) high = mid - 1;
    else if (clock >= range.clock + range.len) low = mid + 1;
    else return clock + len <= range.clock + range.len;
  }
  return false;
}

export class ServerKnowledge {
  private readonly clocks = new Map<number, number>();
  private deleted: DeleteSet = Y.createDeleteSet();

  /** A state vector the server sent (sync step 1): it has everything below these clocks. */
  learnStateVector(stateVector: Uint8Array): void {
    for (const [client, clock] of Y.decodeStateVector(stateVector)) this.advance(client, clock);
  }

  /** An update the server sent: it has these structs and these deletions. */
  learnUpdate(update: Uint8Array): void {
    const { structs, ds } = Y.decodeUpdate(update);
    for (const struct of structs) {
      if (struct instanceof Y.Skip) continue;
      this.advance(struct.id.client, struct.id.clock + struct.length);
    }
    if (ds.clients.size > 0) this.deleted = Y.mergeDeleteSets([this.deleted, ds]);
  }

  /** Whether the server has every edit and every deletion `doc` has. */
  covers(doc: Y.Doc): boolean {
    const local = Y.snapshot(doc);
    for (const [client, clock] of local.sv) {
      if ((this.clocks.get(client) ?? 0) < clock) return false;
    }
    for (const [client, ranges] of local.ds.clients) {
      const known = this.deleted.clients.get(client);
      for (const range of ranges) if (!coveredBy(known, range.clock, range.len)) return false;
    }
    return true;
  }

  /**
   * The state vector to send in a sync step 1 that asks whether our edits arrived: for each
   * author whose edits are not confirmed yet, one clock short of what we have, so the answer
   * holds (at most) the last of them; our real clocks elsewhere, so nothing else is resent.
   */
  probeStateVector(doc: Y.Doc): Uint8Array {
    const stateVector = Y.decodeStateVector(Y.encodeStateVector(doc));
    for (const [client, clock] of stateVector) {
      if ((this.clocks.get(client) ?? 0) < clock) stateVector.set(client, clock - 1);
    }
    return Y.encodeStateVector(stateVector);
  }

  private advance(client: number, clock: number): void {
    if ((this.clocks.get(client) ?? 0) < clock) this.clocks.set(client, clock);
  }
}
