import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from "jose";
import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { AuthDb } from "./schema.ts";
import { KeyRing } from "./key-encryption.ts";

export interface ActiveKey {
  kid: string;
  key: CryptoKey;
}

const PUBLISHED_KEYS = 3;

/**
 * Ed25519 signing keys, shared by every auth replica through Postgres.
 * The newest key signs; the newest few are published in the JWKS, so a token signed with the
 * previous key keeps verifying after a rotation until it expires. Replicas pick up a new key
 * within `cacheMs`; verifiers reload the JWKS when they meet an unknown `kid`.
 * Private keys are stored sealed by `ring` (key-encryption.ts), never in plaintext.
 */
export class SigningKeys {
  private cached: { at: number; active: ActiveKey; jwks: JSONWebKeySet } | undefined;

  constructor(
    private readonly db: Kysely<AuthDb>,
    private readonly ring: KeyRing,
    private readonly rotationMs: number,
    private readonly cacheMs = 30_000,
  ) {}

  async active(): Promise<ActiveKey> {
    return (await this.load()).active;
  }

  async jwks(): Promise<JSONWebKeySet> {
    return (await this.load()).jwks;
  }

  /**
   * Seals rows stored in plaintext (before keys were encrypted) or with an encryption key that is
   * no longer the first, so old data keeps working and a retired encryption key can be dropped.
   * Returns how many rows it sealed.
   */
  async sealStoredKeys(): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('auth:signing-keys'))`.execute(trx);
      const rows = await trx.selectFrom("signing_keys").select(["kid", "private_jwk"]).execute();
      let sealed = 0;
      for (const row of rows) {
        const by = KeyRing.sealedWith(row.private_jwk);
        if (by === this.ring.primaryId) continue;
        const plain = by === undefined ? row.private_jwk : this.ring.open(row.private_jwk, row.kid);
        await trx.updateTable("signing_keys").set({ private_jwk: this.ring.seal(plain, row.kid) }).where("kid", "=", row.kid).execute();
        sealed++;
      }
      return sealed;
    });
  }

  /** Makes a new signing key now; the old ones stay published. */
  async rotate(): Promise<string> {
    const kid = await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('auth:signing-keys'))`.execute(trx);
      return this.insertKey(trx);
    });
    this.cached = undefined;
    return kid;
  }

  private async insertKey(db: Kysely<AuthDb>): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const kid = randomUUID();
    const pub: JWK = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
    const priv: JWK = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA" };
    await db.insertInto("signing_keys").values({ kid, private_jwk: this.ring.seal(JSON.stringify(priv), kid), public_jwk: JSON.stringify(pub) }).execute();
    return kid;
  }

  private async ensureFresh(): Promise<void> {
    const newest = await this.db.selectFrom("signing_keys").select("created_at").orderBy("created_at", "desc").limit(1).executeTakeFirst();
    if (newest && Date.now() - newest.created_at.getTime() < this.rotationMs) return;
    await this.db.transaction().execute(async (trx) => {
      // Replicas starting together must not each make a key.
      await sql`select pg_advisory_xact_lock(hashtext('auth:signing-keys'))`.execute(trx);
      const again = await trx.selectFrom("signing_keys").select("created_at").orderBy("created_at", "desc").limit(1).executeTakeFirst();
      if (!again || Date.now() - again.created_at.getTime() >= this.rotationMs) await this.insertKey(trx);
    });
  }

  private async load(): Promise<{ active: ActiveKey; jwks: JSONWebKeySet }> {
    if (this.cached && Date.now() - this.cached.at < this.cacheMs) return this.cached;
    await this.ensureFresh();
    const rows = await this.db
      .selectFrom("signing_keys")
      .select(["kid", "private_jwk", "public_jwk"])
      .orderBy("created_at", "desc")
      .limit(PUBLISHED_KEYS)
      .execute();
    const newest = rows[0];
    if (!newest) throw new Error("no signing key");
    const key = (await importJWK(JSON.parse(this.ring.open(newest.private_jwk, newest.kid)) as JWK, "EdDSA")) as CryptoKey;
    this.cached = {
      at: Date.now(),
      active: { kid: newest.kid, key },
      jwks: { keys: rows.map((r) => JSON.parse(r.public_jwk) as JWK) },
    };
    return this.cached;
  }
}
