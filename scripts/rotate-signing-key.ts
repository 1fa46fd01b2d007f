/**
 * Makes a new access-token signing key now. Tokens signed with the previous key keep verifying
 * until they expire (it stays in the JWKS); auth replicas sign with the new key within
 * SIGNING_KEY_CACHE_MS; gateways fetch it when they first see its `kid`. Same environment as the
 * auth service: its DATABASE_URL and SIGNING_KEY_ENCRYPTION_KEY (the new key is stored sealed).
 */
import { createDb, refuseBuiltInCredentials } from "@palimpsest/platform";
import { loadConfig, rotateSigningKey, type Db } from "@palimpsest/auth/operations";

const config = loadConfig();
refuseBuiltInCredentials(config, { postgres: true });
const db = createDb<Db>(config.databaseUrl, { max: 1 });
try {
  const kid = await rotateSigningKey(db, config);
  console.log(`new signing key ${kid}`);
} finally {
  await db.destroy();
}
