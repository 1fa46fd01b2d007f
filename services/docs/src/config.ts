import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

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
} as const;

export type DocsConfig = ConfigOf<typeof docsConfigSpec>;
export const loadDocsConfig = (source: NodeJS.ProcessEnv = process.env): DocsConfig => loadConfig(docsConfigSpec, source);
