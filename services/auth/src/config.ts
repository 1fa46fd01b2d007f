import { commonConfig, env, loadConfig, type ConfigOf, type Field } from "@palimpsest/platform";
import { KeyRing } from "./key-encryption.ts";

const encryptionKeys = env.list(
  "SIGNING_KEY_ENCRYPTION_KEY",
  [],
  "base64 AES-256 key(s) of 32 bytes sealing the private signing keys in the database, comma-separated: the first seals, any opens (required; npm start and the tests make one)",
);
/** Checked when the config is read, so a bad key stops the start with the other config problems. */
const signingKeyEncryptionKeys: Field<readonly string[]> = {
  ...encryptionKeys,
  parse(raw) {
    const list = encryptionKeys.parse(raw);
    KeyRing.parse(list);
    return list;
  },
};

export const authConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8081, "auth service HTTP port (health, metrics)", { min: 0, max: 65535 }),
  accessTokenTtlSeconds: env.int("ACCESS_TOKEN_TTL_SECONDS", 900, "lifetime of an access token", { min: 10, max: 86_400 }),
  refreshTokenTtlSeconds: env.int("REFRESH_TOKEN_TTL_SECONDS", 30 * 86_400, "lifetime of a session without use", { min: 60 }),
  signingKeyCacheMs: env.int("SIGNING_KEY_CACHE_MS", 30_000, "how soon a replica uses a key another replica made", { min: 0 }),
  signingKeyEncryptionKeys,
  keyRotationDays: env.int("SIGNING_KEY_ROTATION_DAYS", 30, "a new signing key is made after this many days", { min: 1 }),
  publicUrl: env.url("PUBLIC_URL", "http://localhost:8080", "the address people open the app at: links in emails point here"),
  passwordResetMailsPerHour: env.int("PASSWORD_RESET_MAILS_PER_HOUR", 3, "reset emails one address is sent in an hour; further requests get the same answer and no email", { min: 1, max: 100 }),
  passwordResetTtlMinutes: env.int("PASSWORD_RESET_TTL_MINUTES", 60, "how long an emailed password-reset link works", { min: 1, max: 7 * 24 * 60 }),
  smtpUrl: env.url("SMTP_URL", "smtp://127.0.0.1:1025", "SMTP server the outbox is sent through (smtp://user:pass@host:port, or smtps://)"),
  mailFrom: env.string("MAIL_FROM", "Palimpsest <no-reply@palimpsest.localhost>", "sender of every email"),
  mailMaxAttempts: env.int("MAIL_MAX_ATTEMPTS", 60, "attempts to send one email (backing off up to 30 s apart) before it is dropped and logged", { min: 1, max: 1000 }),
} as const;

export type AuthConfig = ConfigOf<typeof authConfigSpec>;
export const loadAuthConfig = (source: NodeJS.ProcessEnv = process.env): AuthConfig => loadConfig(authConfigSpec, source);
