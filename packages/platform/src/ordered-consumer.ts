/**
 * Ends a read through an ordered consumer and deletes the consumer on the server at once.
 * Stopping alone leaves it there until its inactive threshold (five minutes in nats.js): a
 * document command, a history read or a document unloaded by the sync service would each leave
 * one behind, and nats-server keeps every one of them (a thousand documents opened and shared
 * left three thousand). Best effort: one the server already dropped is no loss.
 */
export function discardConsumer(consumer: { delete(): Promise<boolean> }, messages?: { stop(): void }): void {
  messages?.stop();
  try {
    consumer.delete().catch(() => undefined);
  } catch {
    // Never created on the server (the read failed before it started): nothing to delete.
  }
}
