/**
 * Makes a new key for signing audit checkpoints now. Checkpoints signed with the previous key keep
 * verifying: it stays in /.well-known/audit-keys.json with the period it signed in. Same
 * environment as the history service: its DATABASE_URL and AUDIT_KEY_ENCRYPTION_KEY (the new key
 * is stored sealed).
 */
import { createDb, refuseBuiltInCredentials } from "@palimpsest/platform";
import { loadConfig, rotateAuditKey, type Db } from "@palimpsest/history/operations";

const config = loadConfig();
refuseBuiltInCredentials(config, { postgres: true });
const db = createDb<Db>(config.databaseUrl, { max: 1 });
try {
  const kid = await rotateAuditKey(db, config);
  console.log(`new audit signing key ${kid}`);
} finally {
  await db.destroy();
}
