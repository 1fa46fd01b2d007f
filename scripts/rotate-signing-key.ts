/**
 * Makes a new access-token signing key now. Tokens signed with the previous key keep verifying
 * until they expire (it stays in the JWKS); auth replicas sign with the new key within
 * SIGNING_KEY_CACHE_MS; gateways fetch it when they first see its `kid`.
 */
import { createDb } from "@palimpsest/platform";
import { loadConfig, rotateSigningKey, type Db } from "@palimpsest/auth/operations";

const config = loadConfig();
const db = createDb<Db>(config.databaseUrl, { max: 1 });
try {
  const kid = await rotateSigningKey(db, config);
  console.log(`new signing key ${kid}`);
} finally {
  await db.destroy();
}
