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
} as const;

export type AuthConfig = ConfigOf<typeof authConfigSpec>;
export const loadAuthConfig = (source: NodeJS.ProcessEnv = process.env): AuthConfig => loadConfig(authConfigSpec, source);
