/**
 * What operator tools (scripts/, the image's commands) may use of the auth service: its
 * settings, its read models, and key rotation. Tools import this entry, never the internals.
 */
import type { ReadModels } from "@palimpsest/platform";
import type { Kysely } from "kysely";
import { authConfigSpec, loadAuthConfig, type AuthConfig } from "./config.ts";
import { authProjectionSpecs } from "./projections.ts";
import { authMigrations, type AuthDb } from "./schema.ts";
import { KeyRing } from "./key-encryption.ts";
import { SigningKeys } from "./signing-keys.ts";

export { authConfigSpec as configSpec, loadAuthConfig as loadConfig, type AuthConfig as Config, type AuthDb as Db };

export const readModels: ReadModels<AuthDb> = { service: "auth", migrations: authMigrations, projections: authProjectionSpecs };

/** Makes a new access-token signing key now and returns its `kid`. */
export function rotateSigningKey(db: Kysely<AuthDb>, config: AuthConfig): Promise<string> {
  return new SigningKeys(db, KeyRing.parse(config.signingKeyEncryptionKeys), config.keyRotationDays * 86_400_000).rotate();
}
