import { fileURLToPath } from "node:url";
import { ManagedProcess, portAnswers, waitUntil } from "./managed-process.ts";
import { tsxLoader } from "./s3-server.ts";

export interface MailServerOptions {
  smtpPort: number;
  httpPort: number;
  logFile: string;
}

export interface MailServer {
  /** What the services send through (SMTP_URL). */
  smtpUrl: string;
  /** Where people and tests read what was sent: `/` a page, `/api/messages?to=` JSON. */
  mailboxUrl: string;
  process: ManagedProcess;
}

/** The local SMTP server and mailbox (mail-server-main.ts) as its own process, like the other stores. */
export async function startMailServer(opts: MailServerOptions): Promise<MailServer> {
  const proc = new ManagedProcess({
    name: "mail",
    command: process.execPath,
    args: ["--import", tsxLoader, fileURLToPath(new URL("./mail-server-main.ts", import.meta.url)), String(opts.smtpPort), String(opts.httpPort)],
    logFile: opts.logFile,
  });
  await waitUntil("mail server", async () => (await portAnswers(opts.smtpPort)) && (await fetch(`http://127.0.0.1:${opts.httpPort}/api/messages`)).ok, { process: proc });
  return { smtpUrl: `smtp://127.0.0.1:${opts.smtpPort}`, mailboxUrl: `http://127.0.0.1:${opts.httpPort}`, process: proc };
}

export interface ReceivedMail {
  id: number;
  messageId: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string;
  receivedAt: string;
}

/** The mail the local mail server received for one address, oldest first. */
export async function mailTo(mailboxUrl: string, address: string): Promise<ReceivedMail[]> {
  const res = await fetch(`${mailboxUrl}/api/messages?to=${encodeURIComponent(address)}`);
  if (!res.ok) throw new Error(`mailbox answered ${res.status}`);
  return ((await res.json()) as { items: ReceivedMail[] }).items;
}
