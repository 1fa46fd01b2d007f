import { SignJWT, generateKeyPair, importJWK, type JWK, type CryptoKey } from "jose";
import pg from "pg";
import { KeyRing } from "../services/auth/src/key-encryption.ts";

/**
 * The auth service's newest signing key, read from its table and opened with the run's encryption
 * key: lets tests mint tokens the real key signs.
 */
export async function currentSigningKey(databaseUrl: string, encryptionKey: string): Promise<{ kid: string; key: CryptoKey }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const res = await client.query<{ kid: string; private_jwk: string }>("select kid, private_jwk from signing_keys order by created_at desc limit 1");
    const row = res.rows[0];
    if (!row) throw new Error("no signing key");
    return { kid: row.kid, key: (await importJWK(JSON.parse(KeyRing.parse([encryptionKey]).open(row.private_jwk, row.kid)) as JWK, "EdDSA")) as CryptoKey };
  } finally {
    await client.end();
  }
}

export interface MintOptions {
  sub: string;
  sid: string;
  iss?: string;
  aud?: string;
  /** Seconds from now; negative means in the past. */
  exp?: number;
  nbf?: number;
  iat?: number;
}

export async function mint(signer: { kid: string; key: CryptoKey }, o: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: o.sid, name: "Minted" })
    .setProtectedHeader({ alg: "EdDSA", kid: signer.kid, typ: "JWT" })
    .setSubject(o.sub)
    .setIssuer(o.iss ?? "palimpsest")
    .setAudience(o.aud ?? "palimpsest")
    .setIssuedAt(now + (o.iat ?? 0))
    .setNotBefore(now + (o.nbf ?? 0))
    .setExpirationTime(now + (o.exp ?? 600))
    .sign(signer.key);
}

export async function foreignSigner(): Promise<{ kid: string; key: CryptoKey }> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  return { kid: crypto.randomUUID(), key: privateKey };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** An unsigned token (`alg: none`) with the given claims. */
export function unsignedToken(claims: Record<string, unknown>): string {
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

/** A valid token whose payload was changed after signing. */
export function tamper(token: string, change: Record<string, unknown>): string {
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  return `${h}.${b64({ ...claims, ...change })}.${s}`;
}
