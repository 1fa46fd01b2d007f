import { describe, expect, it } from "vitest";
import { MailMessage, parse } from "@palimpsest/contracts";
import { composeNotificationMail, mailedFor, settingsMailing, type MailedNotification } from "../src/notification-mail.ts";

const ben = { userId: "u-ben", email: "ben@example.test", name: "Ben" };
const note = (over: Partial<MailedNotification>): MailedNotification => ({
  id: "1-u-ben",
  type: "mention",
  docId: "d1",
  docTitle: "Plan",
  docKind: "text",
  actorName: "Ann",
  excerpt: "@Ben look",
  streamSeq: 1,
  ...over,
});

describe("which notifications are emailed", () => {
  it("all: every kind; mentions: mentions only; none: nothing", () => {
    expect((["mention", "reply", "share"] as const).map((t) => mailedFor("all", t))).toEqual([true, true, true]);
    expect((["mention", "reply", "share"] as const).map((t) => mailedFor("mentions", t))).toEqual([true, false, false]);
    expect((["mention", "reply", "share"] as const).map((t) => mailedFor("none", t))).toEqual([false, false, false]);
    expect(settingsMailing("mention")).toEqual(["all", "mentions"]);
    expect(settingsMailing("reply")).toEqual(["all"]);
  });
});

describe("a notification email", () => {
  it("given one notification, when composed, then it reads as itself with a link to the document", () => {
    const mail = composeNotificationMail(ben, [note({})], "https://docs.example.test/");
    expect(parse(MailMessage, mail, "mail")).toEqual(mail);
    expect(mail).toMatchObject({ id: "notifications-u-ben-1", kind: "notifications", to: "ben@example.test", subject: "Ann mentioned you in “Plan”" });
    expect(mail.text).toContain("Hello Ben,");
    expect(mail.text).toContain("@Ben look");
    expect(mail.text).toContain("https://docs.example.test/d/d1");
  });

  it("given several, when composed, then one email lists them oldest first under a count, named after the newest", () => {
    const mail = composeNotificationMail(
      ben,
      [
        note({ id: "9-u-ben", type: "reply", excerpt: "second\nline", streamSeq: 9, actorName: "" }),
        note({ id: "3-u-ben", type: "share", excerpt: null, streamSeq: 3, docKind: "board", docTitle: "" }),
      ],
      "https://docs.example.test",
    );
    expect(mail.id).toBe("notifications-u-ben-9");
    expect(mail.subject).toBe("2 new notifications: Someone replied in a thread in “Plan” and 1 more");
    const shared = mail.text.indexOf("Ann shared “Untitled” with you.\n  https://docs.example.test/b/d1");
    const replied = mail.text.indexOf("Someone replied in a thread in “Plan”:\n  second line");
    expect(shared).toBeGreaterThan(0);
    expect(replied).toBeGreaterThan(shared);
  });

  it("given a very long title, when composed, then the subject stays within what the outbox takes", () => {
    const mail = composeNotificationMail(ben, [note({ docTitle: "x".repeat(400) })], "https://docs.example.test");
    expect(mail.subject.length).toBeLessThanOrEqual(300);
    expect(() => parse(MailMessage, mail, "mail")).not.toThrow();
  });

  it("given no notifications, when composed, then it refuses", () => {
    expect(() => composeNotificationMail(ben, [], "https://docs.example.test")).toThrow();
  });
});
