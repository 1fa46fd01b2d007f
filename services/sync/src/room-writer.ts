import { CloseCodes, closeCodeOf, toAppError } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";
import type { Peer } from "./doc-room.ts";
import type { EditLog } from "./edit-log.ts";
import { encodePermissionDenied } from "./protocol.ts";
import type { StorageQuota } from "./storage-quota.ts";
import type { SyncMetrics } from "./sync-metrics.ts";
import { UpdateBatcher, type Queued } from "./update-batcher.ts";

/**
 * A document's write queue: each connection's accepted updates go to the edit log through its
 * own batcher, so one connection's edits are stored in the order it sent them while another's
 * slow append does not hold them up.
 */
export class RoomWriter {
  private readonly writers = new Map<string, UpdateBatcher>();
  private readonly failedPeers = new Set<string>();

  constructor(
    private readonly docId: string,
    private readonly editLog: EditLog,
    private readonly log: Logger,
    private readonly metrics: SyncMetrics,
    private readonly quota: StorageQuota,
  ) {}

  /** Queues an update for storing; settles once it is stored, or after the connection was closed because it could not be. */
  write(peer: Peer, update: Queued): Promise<void> {
    let writer = this.writers.get(peer.id);
    if (!writer) {
      writer = new UpdateBatcher(async (merged, updates) => {
        const started = performance.now();
        const parts: readonly Uint8Array[] = Array.isArray(merged) ? merged : [merged as Uint8Array];
        const total = parts.reduce((n, p) => n + p.byteLength, 0);
        // Reserved first, all parts at once, so that nothing is stored past a quota and a catch-up
        // is not stored in part for want of quota; what was not stored is given back.
        await this.quota.reserve(peer.userId, this.docId, total);
        let stored = 0;
        try {
          for (const part of parts) {
            await this.editLog.append(this.docId, part, peer.userId, peer.id, peer.trace, peer.apiToken);
            stored += part.byteLength;
          }
        } catch (err) {
          this.quota.release(peer.userId, this.docId, total - stored);
          throw err;
        }
        this.metrics.appendSeconds.observe((performance.now() - started) / 1000);
        this.metrics.appendedEvents.inc(parts.length);
        this.metrics.acceptedUpdates.inc(updates);
      });
      this.writers.set(peer.id, writer);
    }
    return writer.push(update).then(
      () => undefined,
      (err: unknown) => {
        const appErr = toAppError(err);
        if (appErr.code === "QUOTA_EXCEEDED") {
          // A refusal: the client keeps its edits locally, and is told why before the close.
          if (!this.failedPeers.has(peer.id)) {
            this.failedPeers.add(peer.id);
            this.metrics.rejectedUpdates.inc({ reason: "quota" });
            this.log.info({ connId: peer.id, userId: peer.userId }, appErr.message);
            peer.send(encodePermissionDenied(appErr.message));
          }
          peer.close(closeCodeOf("QUOTA_EXCEEDED"), "QUOTA_EXCEEDED");
          return;
        }
        // Not stored means not acknowledged: the client keeps the change and resends it when it resyncs.
        if (!this.failedPeers.has(peer.id)) {
          this.failedPeers.add(peer.id);
          this.log.error({ err, connId: peer.id }, "could not store update");
        }
        peer.close(CloseCodes.internalError, "could not store update; reconnecting");
      },
    );
  }

  /** Forgets a connection that left; appends already queued still complete, so what it sent before leaving is kept. */
  forget(peerId: string): void {
    this.writers.delete(peerId);
    this.failedPeers.delete(peerId);
  }
}
