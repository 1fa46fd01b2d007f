import { Type, type Static } from "@sinclair/typebox";
import { SAFE_ID_PATTERN } from "./ids.ts";

/**
 * Webhooks: a document's owner names an HTTP(S) endpoint and the events it wants; each matching
 * event is POSTed there as a Standard Webhooks message (`{type, timestamp, data}`, headers
 * `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`).
 * No schema here needs Node: the web app builds its form from the same lists.
 */

/** The public event names a webhook may ask for: stable, unversioned, never the internal `*.v1` names. */
export const WebhookEventTypes = [
  "doc.created",
  "doc.renamed",
  "doc.shared",
  "doc.trashed",
  "doc.restored",
  "doc.edited",
  "comment.created",
  "comment.resolved",
  "file.uploaded",
] as const;
export type WebhookEventType = (typeof WebhookEventTypes)[number];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === "string" && (WebhookEventTypes as readonly string[]).includes(value);
}

/** Endpoints one document may have (disabled ones count): each costs a request per event. */
export const MAX_WEBHOOKS_PER_DOC = 10;
/** A target URL's length limit: enough for any real receiver, too short to smuggle a payload. */
export const MAX_WEBHOOK_URL_LENGTH = 2_048;

const Id = Type.String({ pattern: SAFE_ID_PATTERN });
export const WebhookEventType = Type.Union(WebhookEventTypes.map((t) => Type.Literal(t)));
export const WebhookEvents = Type.Array(WebhookEventType, { minItems: 1, maxItems: WebhookEventTypes.length, uniqueItems: true });
/** Only the shape here; the scheme, credentials and where it points are checked by the docs service (webhook-targets.ts). */
export const WebhookUrl = Type.String({ minLength: 8, maxLength: MAX_WEBHOOK_URL_LENGTH, pattern: "^[hH][tT][tT][pP][sS]?://" });

/** `POST /api/docs/:id/webhooks`. */
export const RegisterWebhookBody = Type.Object({ url: WebhookUrl, events: WebhookEvents }, { additionalProperties: false });
export type RegisterWebhookBody = Static<typeof RegisterWebhookBody>;
export const WebhookIdParams = Type.Object({ id: Id }, { additionalProperties: false });

/**
 * `POST /api/webhooks/:id/replay`: `from` is a delivery's id (its `webhook-id`: that delivery and
 * every later one of the endpoint) or an ISO time (deliveries made at or after it). Without it,
 * the deliveries that failed for good are sent again. Always with their original `webhook-id`.
 */
export const ReplayWebhookBody = Type.Object(
  { from: Type.Optional(Type.Union([Type.String({ pattern: "^msg_[A-Za-z0-9]{20,64}$" }), Type.String({ format: "date-time", minLength: 20, maxLength: 40 })])) },
  { additionalProperties: false },
);
export type ReplayWebhookBody = Static<typeof ReplayWebhookBody>;

/** `GET /api/webhooks/:id/deliveries?cursor=&limit=`. */
export const WebhookDeliveriesQuery = Type.Object(
  { cursor: Type.Optional(Type.String({ pattern: "^[0-9]{1,19}$" })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) },
  { additionalProperties: false },
);
export const WebhookDeliveriesInput = Type.Object(
  { id: Id, cursor: Type.Optional(Type.String({ pattern: "^[0-9]{1,19}$" })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) },
  { additionalProperties: false },
);
export const WebhookCommandInput = Type.Object({ id: Id, body: Type.Optional(Type.Unknown()) }, { additionalProperties: false });

export interface WebhookView {
  id: string;
  docId: string;
  url: string;
  events: WebhookEventType[];
  createdAt: string;
  /** Turned off after deliveries kept failing; a replay turns it on again. */
  disabled: boolean;
  disabledAt?: string;
  disabledReason?: string;
}

/** The answer to a registration, the only time the signing secret is shown: `whsec_` and base64. */
export interface RegisteredWebhook extends WebhookView {
  secret: string;
}

export interface WebhookList {
  items: WebhookView[];
}

export interface WebhookAttemptView {
  at: string;
  /** The receiver's HTTP status; absent when no answer came (refused target, timeout, connection error). */
  statusCode?: number;
  error?: string;
  durationMs: number;
}

export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookDeliveryView {
  /** The message's `webhook-id`, the same on every retry and replay. */
  id: string;
  type: WebhookEventType;
  status: WebhookDeliveryStatus;
  createdAt: string;
  nextAttemptAt?: string;
  /** Newest first. */
  attempts: WebhookAttemptView[];
}

export interface WebhookDeliveryList {
  items: WebhookDeliveryView[];
  nextCursor?: string;
}

export interface WebhookReplayResult {
  /** Deliveries queued to be sent again. */
  replayed: number;
}
