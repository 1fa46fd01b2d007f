import { ConfigError, commonConfig, env, loadConfig, type ConfigOf, type Field } from "@palimpsest/platform";
import { DEFAULT_RETRY_SCHEDULE_MS } from "./webhook-retry-schedule.ts";
import type { PrivateTargetPolicy } from "./webhook-targets.ts";

/** Local runs sign with this public key; production refuses it (refuseBuiltInWebhookKey). */
const LOCAL_WEBHOOK_KEY = "bG9jYWwtb25seS13ZWJob29rLXNpZ25pbmcta2V5ISE=";

const webhookKeyText = env.string(
  "WEBHOOK_SIGNING_KEY",
  LOCAL_WEBHOOK_KEY,
  "base64 key (32 bytes or more) every endpoint's signing secret is derived from; changing it changes every secret (required with NODE_ENV=production; built-in default: local runs only)",
);
/** Kept as its base64 text: config is deep-frozen, and a Buffer cannot be. */
const webhookSigningKey: Field<string> = {
  ...webhookKeyText,
  parse(raw) {
    const text = webhookKeyText.parse(raw);
    // Buffer.from skips what is not base64: a key written wrong would pass as a shorter one.
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error("WEBHOOK_SIGNING_KEY is not base64 (openssl rand -base64 32)");
    const key = Buffer.from(text, "base64");
    if (key.length < 32) throw new Error("WEBHOOK_SIGNING_KEY must be base64 of at least 32 bytes (openssl rand -base64 32)");
    return text;
  },
};

const retryText = env.list("WEBHOOK_RETRY_SCHEDULE_MS", DEFAULT_RETRY_SCHEDULE_MS.map(String), "waits between a failing delivery's attempts, in ms, comma-separated; after the last, the delivery has failed");
const webhookRetryScheduleMs: Field<readonly number[]> = {
  ...retryText,
  parse(raw) {
    const list = retryText.parse(raw).map(Number);
    if (list.length === 0 || list.length > 50 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 86_400_000)) {
      throw new Error("WEBHOOK_RETRY_SCHEDULE_MS must be 1 to 50 whole numbers of ms, each at most a day");
    }
    return list;
  },
};

export const docsConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8082, "docs service HTTP port (health, metrics)", { min: 0, max: 65535 }),
  publicUrl: env.url("PUBLIC_URL", "http://localhost:8080", "the address people open the app at: links in emails point here"),
  invitationTtlHours: env.int("INVITATION_TTL_HOURS", 7 * 24, "how long an emailed invitation link works", { min: 1, max: 90 * 24 }),
  notificationMailDelaySeconds: env.number(
    "NOTIFICATION_MAIL_DELAY_SECONDS",
    120,
    "how long a notification waits before it is emailed (read in the app by then, it is not), and the least time between two notification emails to one person: what comes meanwhile goes in one email",
    { min: 0.2, max: 86_400 },
  ),
  searchIndexIntervalMs: env.int(
    "SEARCH_INDEX_INTERVAL_MS",
    2_000,
    "how often the search index takes in what was edited: each edited document's text is fetched and indexed once per interval, so an edit is findable within about this long, and typing costs one indexing per document per interval",
    { min: 50, max: 60_000 },
  ),
  webhookSigningKey,
  webhookAllowPrivateTargets: env.oneOf<PrivateTargetPolicy>(
    "WEBHOOK_ALLOW_PRIVATE_TARGETS",
    ["false", "loopback", "true"],
    "false",
    "where webhooks may point besides public addresses: `false` nowhere else (SSRF guard), `loopback` also this machine (npm start), `true` also private networks",
  ),
  webhookTimeoutMs: env.int("WEBHOOK_TIMEOUT_MS", 10_000, "how long a delivery waits for the receiver's answer", { min: 100, max: 60_000 }),
  webhookRetryScheduleMs,
  webhookRetryForMs: env.int("WEBHOOK_RETRY_FOR_MS", 86_400_000, "a failing delivery is retried at most this long after its first attempt", { min: 1_000, max: 7 * 86_400_000 }),
  webhookEditIntervalMs: env.int("WEBHOOK_EDIT_INTERVAL_MS", 10_000, "at most one doc.edited delivery per endpoint per this interval: edits in between are coalesced", { min: 100, max: 3_600_000 }),
  webhookDisableAfter: env.int("WEBHOOK_DISABLE_AFTER", 5, "an endpoint whose last this many deliveries all failed for good is disabled and its owner told", { min: 1, max: 1_000 }),
  webhookPollMs: env.int("WEBHOOK_POLL_MS", 1_000, "how often a replica looks for deliveries that are due", { min: 20, max: 60_000 }),
} as const;

export type DocsConfig = ConfigOf<typeof docsConfigSpec>;
export const loadDocsConfig = (source: NodeJS.ProcessEnv = process.env): DocsConfig => loadConfig(docsConfigSpec, source);

/** The built-in webhook key is public: outside a local run, every endpoint's secret would be guessable. */
export function refuseBuiltInWebhookKey(config: Pick<DocsConfig, "nodeEnv" | "webhookSigningKey">): void {
  if (config.nodeEnv === "production" && Buffer.from(config.webhookSigningKey, "base64").equals(Buffer.from(LOCAL_WEBHOOK_KEY, "base64"))) {
    throw new ConfigError(["WEBHOOK_SIGNING_KEY is unset or the built-in local key: set the docs service's own (NODE_ENV=production)"]);
  }
}
