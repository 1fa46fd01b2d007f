/**
 * Makes a new access-token signing key now. Tokens signed with the previous key keep verifying
 * until they expire (it stays in the JWKS); auth replicas sign with the new key within
 * SIGNING_KEY_CACHE_MS; gateways fetch it when they first see its `kid`.
 */
import { createDb } from "@palimpsest/platform";
import { loadAuthConfig } from "../services/auth/src/config.ts";
import { SigningKeys } from "../services/auth/src/signing-keys.ts";
import type { AuthDb } from "../services/auth/src/schema.ts";

const config = loadAuthConfig();
const db = createDb<AuthDb>(config.databaseUrl, { max: 1 });
try {
  const kid = await new SigningKeys(db, config.keyRotationDays * 86_400_000).rotate();
  console.log(`new signing key ${kid}`);
} finally {
  await db.destroy();
}
