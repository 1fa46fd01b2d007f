import { createHash, createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";

/**
 * Each endpoint's signing secret is derived, never stored: HMAC-SHA256 of the webhook's id under
 * the service's webhook key. So no event (the audit trail keeps DOCS events whole, and exports
 * them), no table and no backup holds a secret; every replica derives the same one; and rotating
 * the key (WEBHOOK_SIGNING_KEY) changes every endpoint's secret at once, which receivers must then
 * be given again. The owner sees it once, when registering.
 */
export function endpointSecret(serverKey: Buffer, webhookId: string): string {
  const raw = createHmac("sha256", serverKey).update(`palimpsest webhook secret v1\u0000${webhookId}`).digest();
  return `whsec_${raw.toString("base64")}`;
}

/** The Standard Webhooks headers of one attempt: `timestamp` is the attempt's time, `msgId` the delivery's id. */
export function signedHeaders(secret: string, msgId: string, timestamp: Date, body: string): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1_000)),
    "webhook-signature": new Webhook(secret).sign(msgId, timestamp, body),
  };
}

/**
 * The `webhook-id` of an event's message to an endpoint: the same for every retry and replay, and
 * for the event redelivered by the stream, so the delivery row is made once and receivers can dedupe.
 */
export function deliveryId(webhookId: string, source: string): string {
  return `msg_${createHash("sha256").update(`${webhookId}\u0000${source}`).digest("hex").slice(0, 32)}`;
}
