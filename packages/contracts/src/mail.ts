import { Type, type Static } from "@sinclair/typebox";

/**
 * One email in the outbox (the MAIL stream), as any service queues it and the sender delivers it.
 * `id` is also the message's `Nats-Msg-Id`, so a queuing retried within the stream's duplicate
 * window is stored once; the sender gives it to the SMTP server as the Message-ID's local part.
 * Bodies are plain text: links in them are the whole point, and text is what every client shows.
 */
export const MailMessage = Type.Object(
  {
    id: Type.String({ pattern: "^[A-Za-z0-9_-]{1,128}$" }),
    to: Type.String({ minLength: 3, maxLength: 320 }),
    subject: Type.String({ minLength: 1, maxLength: 300 }),
    text: Type.String({ minLength: 1, maxLength: 100_000 }),
    /** What kind of mail this is (invitation, password-reset ...): the subject's last token, for logs and metrics. */
    kind: Type.String({ pattern: "^[a-z][a-z0-9-]{0,63}$" }),
  },
  { additionalProperties: false },
);
export type MailMessage = Static<typeof MailMessage>;
