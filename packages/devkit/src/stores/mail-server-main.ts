/**
 * The local mail server: a real SMTP server that keeps every message it receives in memory, and a
 * small HTTP server to read them, as a page for people (`/`) and as JSON for tests
 * (`/api/messages?to=<address>`). Nothing is relayed anywhere.
 * Usage: mail-server-main.ts <smtpPort> <httpPort>
 */
import http from "node:http";
import { SMTPServer } from "smtp-server";
import { simpleParser, type AddressObject } from "mailparser";

const [smtpArg, httpArg] = process.argv.slice(2);
if (!smtpArg || !httpArg) {
  console.error("usage: mail-server-main.ts <smtpPort> <httpPort>");
  process.exit(2);
}

interface Received {
  id: number;
  messageId: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string;
  receivedAt: string;
}

const received: Received[] = [];
// A local run is not a mail archive: the oldest go once this many are kept.
const KEEP = 1_000;

const addresses = (a: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => (v.address ?? "").toLowerCase())).filter(Boolean);

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  size: 1024 * 1024,
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        received.push({
          id: received.length === 0 ? 1 : received[received.length - 1]!.id + 1,
          messageId: mail.messageId ?? null,
          from: mail.from?.text ?? "",
          to: envelopeTo.length > 0 ? envelopeTo : addresses(mail.to),
          subject: mail.subject ?? "",
          text: mail.text ?? "",
          receivedAt: new Date().toISOString(),
        });
        if (received.length > KEEP) received.splice(0, received.length - KEEP);
        callback();
      })
      .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
  },
});

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const linkify = (s: string) => escape(s).replace(/https?:\/\/[^\s<]+/g, (u) => `<a href="${u}">${u}</a>`);

const web = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (req.method === "GET" && url.pathname === "/api/messages") {
    const to = url.searchParams.get("to")?.toLowerCase();
    const items = to ? received.filter((m) => m.to.includes(to)) : received;
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
    res.end(JSON.stringify({ items }));
    return;
  }
  if (req.method === "GET" && url.pathname === "/") {
    const rows = [...received]
      .reverse()
      .map((m) => `<article><h2>${escape(m.subject)}</h2><p><b>to</b> ${escape(m.to.join(", "))} <b>from</b> ${escape(m.from)} <b>at</b> ${m.receivedAt}</p><pre>${linkify(m.text)}</pre></article>`)
      .join("<hr>");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(`<!doctype html><meta charset="utf-8"><title>Local mail</title><style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto}pre{white-space:pre-wrap}</style><h1>Mail sent by Palimpsest (${received.length})</h1>${rows || "<p>No mail yet.</p>"}`);
    return;
  }
  res.writeHead(404).end();
});

smtp.listen(Number(smtpArg), "127.0.0.1", () => {
  web.listen(Number(httpArg), "127.0.0.1", () => {
    process.stdout.write(`mail server: SMTP on 127.0.0.1:${smtpArg}, mailbox on http://127.0.0.1:${httpArg}/\n`);
  });
});
const stop = () => {
  web.close();
  smtp.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
