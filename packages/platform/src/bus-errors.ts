import { RequestError, TimeoutError } from "@nats-io/transport-node";
import { JetStreamApiError } from "@nats-io/jetstream";

/**
 * Failures that say the bus did not answer in time, not that it refused: a timeout, no responders
 * (JetStream between leaders), a 503. Whatever was asked may or may not have happened, and asking
 * again a moment later is the way through a leader election or a node rejoining its cluster.
 */
export function busUnavailable(err: unknown): boolean {
  if (err instanceof TimeoutError) return true;
  if (err instanceof RequestError) return err.isNoResponders() || err.cause instanceof TimeoutError;
  // nats.js reports "no responders" on a publish as JetStream not being enabled, with the cause kept.
  if (err instanceof Error && err.cause instanceof RequestError) return err.cause.isNoResponders();
  if (err instanceof JetStreamApiError) return err.status === 503;
  return err instanceof Error && /timeout|disconnect/i.test(err.message);
}
