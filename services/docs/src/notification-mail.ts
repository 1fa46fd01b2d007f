import type { DocKind, MailMessage, NotificationEmailSetting, NotificationType } from "@palimpsest/contracts";

/** One notification as an email lists it. */
export interface MailedNotification {
  id: string;
  type: NotificationType;
  docId: string;
  docTitle: string;
  docKind: DocKind;
  actorName: string;
  excerpt: string | null;
  streamSeq: number;
}

export interface MailRecipient {
  userId: string;
  email: string;
  name: string;
}

/** At most this many notifications in one email; the rest wait for the next. */
export const MAIL_BATCH_LIMIT = 50;

/** Whether a person who chose `setting` gets this kind of notification by email too. */
export function mailedFor(setting: NotificationEmailSetting, type: NotificationType): boolean {
  if (setting === "none") return false;
  if (setting === "mentions") return type === "mention";
  return true;
}

/** The settings under which a notification of this type is emailed: what the batcher looks for. */
export function settingsMailing(type: NotificationType): NotificationEmailSetting[] {
  return (["all", "mentions", "none"] as const).filter((s) => mailedFor(s, type));
}

const quoted = (title: string): string => `“${title === "" ? "Untitled" : title}”`;

function sentence(n: MailedNotification): string {
  const who = n.actorName === "" ? "Someone" : n.actorName;
  switch (n.type) {
    case "mention":
      return `${who} mentioned you in ${quoted(n.docTitle)}`;
    case "reply":
      return `${who} replied in a thread in ${quoted(n.docTitle)}`;
    case "share":
      return `${who} shared ${quoted(n.docTitle)} with you`;
    case "webhook_disabled":
      return `A webhook of ${quoted(n.docTitle)} was turned off`;
  }
}

const linkTo = (publicUrl: string, n: MailedNotification): string => `${publicUrl.replace(/\/+$/, "")}/${n.docKind === "board" ? "b" : "d"}/${n.docId}`;

/**
 * One email for a batch of someone's notifications, oldest first: a single one reads as itself,
 * several as a list under a count, so a busy thread makes one email, not one per reply. The id is
 * the batch's newest notification's, so a batch queued twice (a retry after a crash) is stored once.
 */
export function composeNotificationMail(to: MailRecipient, batch: readonly MailedNotification[], publicUrl: string): MailMessage {
  const items = [...batch].sort((a, b) => a.streamSeq - b.streamSeq);
  const newest = items[items.length - 1];
  if (!newest) throw new Error("an email needs at least one notification");
  const base = publicUrl.replace(/\/+$/, "");
  const subject = items.length === 1 ? sentence(newest) : `${items.length} new notifications: ${sentence(newest)}${items.length > 2 ? ` and ${items.length - 1} more` : " and 1 more"}`;
  const body = items
    .map((n) => `${sentence(n)}${n.excerpt ? `:\n  ${n.excerpt.replace(/\s*\n\s*/g, " ")}` : "."}\n  ${linkTo(base, n)}`)
    .join("\n\n");
  const greeting = to.name === "" ? "Hello," : `Hello ${to.name},`;
  return {
    id: `notifications-${to.userId}-${newest.streamSeq}`,
    kind: "notifications",
    to: to.email,
    subject: subject.length > 300 ? `${subject.slice(0, 299)}…` : subject,
    text:
      `${greeting}\n\n${body}\n\n` +
      `Notifications you read in Palimpsest before their email is due are not emailed.\n` +
      `To choose which notifications come by email, open the inbox at ${base}/ and its email setting.\n`,
  };
}
