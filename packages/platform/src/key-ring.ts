import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Private signing keys are sealed with AES-256-GCM before they reach the database, so whoever
 * can read the table (a backup, another role, a leaked dump) cannot sign: auth's access-token keys
 * and history's audit checkpoint keys are sealed alike, each with its own encryption keys.
 *
 * The encryption keys come from the environment as a list: the first seals, any of them opens,
 * so the encryption key itself can be rotated by putting the new one first and dropping the old
 * one once every row is sealed again (auth does that on start). A sealed value names the key that
 * sealed it by a short fingerprint, and binds the row's `kid` as associated data so a sealed key
 * cannot be moved to another row.
 */
const PREFIX = "enc:v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKey {
  readonly id: string;
  readonly secret: Buffer;
}

export class KeyRing {
  private constructor(private readonly keys: readonly EncryptionKey[]) {}

  /** Parses the configured list of base64 keys of 32 bytes each; throws with the reason. */
  static parse(list: readonly string[], name = "SIGNING_KEY_ENCRYPTION_KEY"): KeyRing {
    if (list.length === 0) throw new Error(`${name} is not set: give at least one base64 key of 32 bytes (openssl rand -base64 32)`);
    const keys = list.map((text, i) => {
      const secret = Buffer.from(text, "base64");
      if (secret.length !== 32 || secret.toString("base64").replace(/=+$/, "") !== text.replace(/=+$/, "")) {
        throw new Error(`${name} entry ${i + 1} is not a base64 key of 32 bytes`);
      }
      return { id: fingerprint(secret), secret };
    });
    return new KeyRing(keys);
  }

  /** The fingerprint of the key new values are sealed with. */
  get primaryId(): string {
    return (this.keys[0] as EncryptionKey).id;
  }

  seal(plaintext: string, aad: string): string {
    const key = this.keys[0] as EncryptionKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key.secret, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [PREFIX, key.id, iv.toString("base64url"), Buffer.concat([body, cipher.getAuthTag()]).toString("base64url")].join(":");
  }

  open(sealed: string, aad: string): string {
    const parts = sealed.split(":");
    if (parts.length !== 5 || `${parts[0]}:${parts[1]}` !== PREFIX) throw new Error("not a sealed value");
    const [, , id, ivText, bodyText] = parts as [string, string, string, string, string];
    const key = this.keys.find((k) => k.id === id);
    if (!key) throw new Error(`sealed with encryption key ${id}, which is not configured`);
    const data = Buffer.from(bodyText, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", key.secret, Buffer.from(ivText, "base64url"), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  }

  /** Whether a stored value is sealed at all, and with the current primary key. */
  static sealedWith(stored: string): string | undefined {
    const parts = stored.split(":");
    return parts.length === 5 && `${parts[0]}:${parts[1]}` === PREFIX ? parts[2] : undefined;
  }
}

function fingerprint(secret: Buffer): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 12);
}
