import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DatabaseServices, serviceDatabaseUrl, type DatabasePasswords, type DatabaseService } from "@palimpsest/platform";

/**
 * Secrets a local run makes for itself, once, and keeps under its data folder (mode 0600) so they
 * survive restarts: each service's database password, the key sealing auth's signing keys and the
 * local object store's key pair.
 */
export interface LocalSecrets {
  database: DatabasePasswords;
  signingKeyEncryptionKey: string;
  /** The local object store's own key pair, so services never run on the store's public default. */
  objectStore: { accessKeyId: string; secretAccessKey: string };
}

export function loadOrCreateLocalSecrets(file: string): LocalSecrets {
  const existing = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LocalSecrets>) : {};
  const secrets: LocalSecrets = {
    database: Object.fromEntries(DatabaseServices.map((s) => [s, existing.database?.[s] ?? randomBytes(24).toString("hex")])) as DatabasePasswords,
    signingKeyEncryptionKey: existing.signingKeyEncryptionKey ?? randomBytes(32).toString("base64"),
    objectStore: existing.objectStore ?? { accessKeyId: `LOCAL${randomBytes(8).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(24).toString("hex") },
  };
  if (JSON.stringify(secrets) !== JSON.stringify({ database: existing.database, signingKeyEncryptionKey: existing.signingKeyEncryptionKey, objectStore: existing.objectStore })) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}

export function readLocalSecrets(file: string): LocalSecrets {
  return JSON.parse(fs.readFileSync(file, "utf8")) as LocalSecrets;
}

const isDatabaseService = (name: string): name is DatabaseService => (DatabaseServices as readonly string[]).includes(name);

/**
 * The database URL a service connects with in a run whose env is `env` (a StoreSet's): its own
 * role, or none for a service that keeps no tables.
 */
export function serviceDatabaseEnv(env: Record<string, string | undefined>, service: string): Record<string, string> {
  const file = env["LOCAL_SECRETS_FILE"];
  const admin = env["DATABASE_URL"];
  if (!file || !admin) return admin ? { DATABASE_URL: admin } : {};
  if (!isDatabaseService(service)) return {};
  return { DATABASE_URL: serviceDatabaseUrl(admin, service, readLocalSecrets(file).database[service]) };
}
