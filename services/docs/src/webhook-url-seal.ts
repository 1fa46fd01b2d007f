import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

/**
 * A webhook's URL is kept sealed (AES-256-GCM under a key derived from WEBHOOK_SIGNING_KEY, bound
 * to the webhook's id) in its event and read model: chat services put their credential in the
 * hook's path, and the DOCS events travel whole into the audit trail that editors and auditors
 * export. Only the host is kept in clear, for the activity. The docs service opens it where it
 * shows the owner their webhooks and where it sends; a changed key leaves old URLs unreadable,
 * as it changes every endpoint's secret too.
 */
export interface WebhookUrlSeal {
  seal(url: string, webhookId: string): string;
  /** The URL, or undefined when it was sealed under another key or is not a sealed URL. */
  open(sealed: string, webhookId: string): string | undefined;
}

const VERSION = "v1";

export function webhookUrlSeal(serverKey: Buffer): WebhookUrlSeal {
  const key = createHmac("sha256", serverKey).update("palimpsest webhook url v1").digest();
  return {
    seal(url, webhookId) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(webhookId));
      const body = Buffer.concat([cipher.update(url, "utf8"), cipher.final()]);
      return [VERSION, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
    },
    open(sealed, webhookId) {
      const [version, iv, body, tag] = sealed.split(".");
      if (version !== VERSION || !iv || body === undefined || !tag) return undefined;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
        decipher.setAAD(Buffer.from(webhookId));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
      } catch {
        return undefined;
      }
    },
  };
}
