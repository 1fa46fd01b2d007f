import { createPrivateKey, generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import { signCheckpoint, type AuditCheckpointLine, type AuditKeySet, type AuditPublicKey } from "@palimpsest/contracts";
import type { KeyRing } from "@palimpsest/platform";
import type { HistoryDb } from "./schema.ts";

/** Held exclusively to make a key, shared to sign: a checkpoint's time always falls in its key's period. */
const KEYS_LOCK = sql`hashtext('history:audit-keys')`;

export interface CheckpointHead {
  docId: string;
  seq: number;
  editHead: string;
}

/**
 * The Ed25519 keys that sign audit checkpoints, shared by every history replica through Postgres,
 * made and sealed like auth's access-token keys (signing-keys.ts there). The newest key signs; a
 * key's period runs from its creation to the next key's, and every key stays published with its
 * period, because a checkpoint is evidence for as long as the trail is kept.
 */
export class AuditSigningKeys {
  private readonly opened = new Map<string, KeyObject>();

  constructor(
    private readonly db: Kysely<HistoryDb>,
    private readonly ring: KeyRing,
    private readonly rotationMs: number,
  ) {}

  /** Every key, oldest first, with its period: `GET /.well-known/audit-keys.json`. */
  async keySet(): Promise<AuditKeySet> {
    await this.ensureFresh();
    const rows = await this.db.selectFrom("audit_keys").select(["kid", "public_jwk", "created_at"]).orderBy("created_at", "asc").orderBy("kid").execute();
    return {
      keys: rows.map((r, i) => {
        const next = rows[i + 1];
        const jwk = JSON.parse(r.public_jwk) as { x: string };
        const key: AuditPublicKey = { kid: r.kid, kty: "OKP", alg: "EdDSA", crv: "Ed25519", x: jwk.x, validFrom: r.created_at.toISOString() };
        return next ? { ...key, validUntil: next.created_at.toISOString() } : key;
      }),
    };
  }

  /** Makes a new signing key now; the old ones stay published. */
  async rotate(): Promise<string> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${KEYS_LOCK})`.execute(trx);
      return this.insertKey(trx);
    });
  }

  /**
   * Signs the head and stores the checkpoint, unless one for that edit is stored already: then that
   * one (signed earlier, so the stronger evidence) is returned. Returns what is stored.
   */
  async checkpoint(head: CheckpointHead): Promise<AuditCheckpointLine> {
    const stored = await this.stored(this.db, head);
    if (stored) return stored;
    await this.ensureFresh();
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock_shared(${KEYS_LOCK})`.execute(trx);
      const newest = await trx.selectFrom("audit_keys").select(["kid", "private_jwk"]).orderBy("created_at", "desc").orderBy("kid", "desc").limit(1).executeTakeFirstOrThrow();
      // Taken under the shared lock: a key made after this time waits for the lock, so its period starts later.
      const line = signCheckpoint({ ...head, at: new Date().toISOString(), kid: newest.kid }, this.privateKey(newest.kid, newest.private_jwk));
      await trx
        .insertInto("audit_checkpoints")
        .values({ doc_id: line.docId, seq: line.seq, edit_head: line.editHead, at: line.at, kid: line.kid, sig: line.sig })
        .onConflict((oc) => oc.columns(["doc_id", "seq"]).doNothing())
        .execute();
      return (await this.stored(trx, head)) ?? line;
    });
  }

  /**
   * Signs a statement now with the newest key, without storing it (a workspace trail's checkpoint
   * is signed when its export ends): `make` gets the time and the key id to put in it.
   */
  async signNow<T>(make: (at: string, kid: string, key: KeyObject) => T): Promise<T> {
    await this.ensureFresh();
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock_shared(${KEYS_LOCK})`.execute(trx);
      const newest = await trx.selectFrom("audit_keys").select(["kid", "private_jwk"]).orderBy("created_at", "desc").orderBy("kid", "desc").limit(1).executeTakeFirstOrThrow();
      return make(new Date().toISOString(), newest.kid, this.privateKey(newest.kid, newest.private_jwk));
    });
  }

  private async stored(db: Kysely<HistoryDb> | Transaction<HistoryDb>, head: CheckpointHead): Promise<AuditCheckpointLine | undefined> {
    const r = await db.selectFrom("audit_checkpoints").selectAll().where("doc_id", "=", head.docId).where("seq", "=", head.seq).executeTakeFirst();
    return r && { type: "checkpoint", docId: r.doc_id, seq: Number(r.seq), editHead: r.edit_head, at: r.at, kid: r.kid, sig: r.sig };
  }

  private privateKey(kid: string, sealed: string): KeyObject {
    let key = this.opened.get(kid);
    if (!key) {
      key = createPrivateKey({ key: JSON.parse(this.ring.open(sealed, `audit:${kid}`)) as JsonWebKey, format: "jwk" });
      this.opened.set(kid, key);
    }
    return key;
  }

  private async insertKey(trx: Transaction<HistoryDb>): Promise<string> {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const kid = randomUUID();
    const pub = { ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA" };
    const priv = { ...privateKey.export({ format: "jwk" }), kid, alg: "EdDSA" };
    // The time in JS, after the exclusive lock: no checkpoint signed under the previous key is later.
    await trx
      .insertInto("audit_keys")
      .values({ kid, private_jwk: this.ring.seal(JSON.stringify(priv), `audit:${kid}`), public_jwk: JSON.stringify(pub), created_at: new Date() })
      .execute();
    return kid;
  }

  private async ensureFresh(): Promise<void> {
    const newest = await this.db.selectFrom("audit_keys").select("created_at").orderBy("created_at", "desc").limit(1).executeTakeFirst();
    if (newest && Date.now() - newest.created_at.getTime() < this.rotationMs) return;
    await this.db.transaction().execute(async (trx) => {
      // Replicas starting together must not each make a key.
      await sql`select pg_advisory_xact_lock(${KEYS_LOCK})`.execute(trx);
      const again = await trx.selectFrom("audit_keys").select("created_at").orderBy("created_at", "desc").limit(1).executeTakeFirst();
      if (!again || Date.now() - again.created_at.getTime() >= this.rotationMs) await this.insertKey(trx);
    });
  }
}
