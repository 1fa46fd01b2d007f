import { expect, inject, vi } from "vitest";
import { mailTo, type ReceivedMail } from "@palimpsest/devkit";

/** The run's local mail server, where every mail the services send arrives. */
export const mailbox = (): string => {
  const url = inject("storeEnv")["MAILBOX_URL"];
  if (!url) throw new Error("the stores run without the local mail server");
  return url;
};

/** Waits for the `count`-th mail to `address` and returns the mail so far, oldest first. */
export async function waitForMail(address: string, count = 1, url = mailbox()): Promise<ReceivedMail[]> {
  let mails: ReceivedMail[] = [];
  await vi.waitFor(
    async () => {
      mails = await mailTo(url, address);
      expect(mails.length).toBeGreaterThanOrEqual(count);
    },
    { timeout: 30_000, interval: 200 },
  );
  return mails;
}

/** The token at the end of the first link in the mail with this path, e.g. `/invite/`. */
export function tokenIn(mail: ReceivedMail, path: string): string {
  const m = new RegExp(`https?://\\S+${path}([A-Za-z0-9_-]+)`).exec(mail.text);
  if (!m?.[1]) throw new Error(`no ${path} link in: ${mail.text}`);
  return m[1];
}
