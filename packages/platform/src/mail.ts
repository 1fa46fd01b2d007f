import nodemailer from "nodemailer";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { MailMessage, Streams, parse, subjects } from "@palimpsest/contracts";
import { publishDurably } from "./event-store.ts";
import { runDurableWorker, type DurableWorker } from "./durable-worker.ts";
import type { Logger } from "./logger.ts";

/**
 * Puts an email in the outbox (the MAIL stream). Once this resolves the mail survives restarts of
 * every process: the sender delivers it when the SMTP server takes it. The id is the message's
 * `Nats-Msg-Id`, so queuing the same mail twice within the duplicate window stores it once.
 */
export async function queueMail(js: JetStreamClient, mail: MailMessage): Promise<void> {
  const checked = parse(MailMessage, mail, "mail");
  await publishDurably(js, subjects.mail(checked.kind), JSON.stringify(checked), { msgID: `mail-${checked.id}` });
}

export interface MailSenderOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  /** `smtp://user:pass@host:port` or `smtps://...`. */
  smtpUrl: string;
  from: string;
  /** Attempts before a mail the SMTP server keeps refusing is dropped (and logged). */
  maxAttempts: number;
}

/**
 * The one sender of the outbox: a durable consumer shared by every replica that runs it, so each
 * mail goes to one of them. A mail is acknowledged only once the SMTP server has accepted it; a
 * failure (server down, refused) is retried with back-off, and after `maxAttempts` given up on.
 * Delivery is at least once: a sender that dies between the server's acceptance and the ack sends
 * that one mail again, which is the SMTP norm.
 */
export function runMailSender(opts: MailSenderOptions): DurableWorker {
  const log = opts.log.child({ component: "mail-sender" });
  const transport = nodemailer.createTransport({
    url: opts.smtpUrl,
    // Short enough that a dead server fails an attempt well inside the consumer's ack wait.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return runDurableWorker({
    js: opts.js,
    jsm: opts.jsm,
    log,
    spec: {
      durable: "mail-sender",
      stream: Streams.mail,
      filterSubject: subjects.allMail(),
      ackWaitMs: 90_000,
      maxDeliver: opts.maxAttempts,
      inFlight: 8,
      async handle(m: JsMsg) {
        let mail: MailMessage;
        try {
          mail = parse(MailMessage, m.json<unknown>(), "mail");
        } catch (err) {
          log.error({ err, seq: m.seq }, "dropping a malformed mail from the outbox");
          return "give-up";
        }
        const info = await transport.sendMail({
          from: opts.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          messageId: `<${mail.id}@palimpsest>`,
        });
        log.info({ mailId: mail.id, kind: mail.kind, response: info.response }, "mail accepted by the SMTP server");
        return "done";
      },
    },
  });
}
