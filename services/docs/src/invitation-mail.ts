import type { JetStreamClient } from "@nats-io/jetstream";
import { queueMail } from "@palimpsest/platform";

export interface InvitationSettings {
  /** Where the app is opened: the emailed link is `<publicUrl>/invite/<token>`. */
  publicUrl: string;
  ttlMs: number;
}

/**
 * Queues the email that carries an invitation's single-use link (to a document or a workspace),
 * through the outbox. `mailId` is the invitation event's id, so a retried queuing is stored once.
 */
export async function queueInvitationMail(
  js: JetStreamClient,
  settings: InvitationSettings,
  m: { mailId: string; email: string; inviter: string; what: string; role: string; token: string },
): Promise<void> {
  const link = `${settings.publicUrl.replace(/\/+$/, "")}/invite/${m.token}`;
  const days = Math.round(settings.ttlMs / 86_400_000);
  await queueMail(js, {
    id: m.mailId,
    kind: "invitation",
    to: m.email,
    subject: `${m.inviter} invited you to ${m.what}`,
    text:
      `${m.inviter} invited you to ${m.what} on Palimpsest as ${m.role}.\n\n` +
      `Open this link to accept (sign in or create an account first if you have none):\n${link}\n\n` +
      `The link works once${days >= 1 ? ` and for ${days} day${days === 1 ? "" : "s"}` : ""}. If you did not expect this, ignore this email.\n`,
  });
}
