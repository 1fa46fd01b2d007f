import { commonConfig, deepFreeze, env, loadConfig, type ConfigOf, type Field } from "@palimpsest/platform";
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

type RegistrationConfirmation = "none" | "email";
const confirmationModes = env.oneOf("REGISTRATION_CONFIRMATION", ["none", "email"] as const, "none", "");
/**
 * Unset, it follows NODE_ENV: a production run confirms by email, so registering reveals nothing
 * about which addresses have accounts; a local run keeps the public contract's 201 with tokens.
 */
const registrationConfirmation: Field<RegistrationConfirmation | undefined> = {
  env: confirmationModes.env,
  defaultText: "none (email with NODE_ENV=production)",
  doc:
    "`email`: registering answers 202 alike for new and taken addresses and emails a link that creates the account (a taken address's owner gets a notice instead); `none`: 201 with tokens, 409 EMAIL_TAKEN for a taken address",
  parse: (raw) => (raw === undefined || raw === "" ? undefined : confirmationModes.parse(raw)),
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
  registrationConfirmation,
  registrationLinkTtlHours: env.int("REGISTRATION_LINK_TTL_HOURS", 24, "how long an emailed link that finishes creating an account works", { min: 1, max: 30 * 24 }),
  registrationMailsPerHour: env.int("REGISTRATION_MAILS_PER_HOUR", 3, "registration emails (a link, or a notice to an existing account's owner) one address is sent in an hour; further requests get the same answer and no email", { min: 1, max: 100 }),
  smtpUrl: env.url("SMTP_URL", "smtp://127.0.0.1:1025", "SMTP server the outbox is sent through (smtp://user:pass@host:port, or smtps://)"),
  mailFrom: env.string("MAIL_FROM", "Palimpsest <no-reply@palimpsest.localhost>", "sender of every email"),
  mailMaxAttempts: env.int("MAIL_MAX_ATTEMPTS", 60, "attempts to send one email (backing off up to 30 s apart) before it is dropped and logged", { min: 1, max: 1000 }),
} as const;

export type AuthConfig = Omit<ConfigOf<typeof authConfigSpec>, "registrationConfirmation"> & { readonly registrationConfirmation: RegistrationConfirmation };

export function loadAuthConfig(source: NodeJS.ProcessEnv = process.env): AuthConfig {
  const config = loadConfig(authConfigSpec, source);
  return deepFreeze({ ...config, registrationConfirmation: config.registrationConfirmation ?? (config.nodeEnv === "production" ? "email" : "none") });
}
