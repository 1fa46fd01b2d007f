import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Streams } from "@palimpsest/contracts";
import { TestApi, freePort, mailTo, natsOptionsFromEnv, startMailServer, type MailServer, type RunningSystem } from "@palimpsest/devkit";
import { startTestSystem } from "./system.ts";
import { waitForMail } from "./mail-helpers.ts";

/**
 * The outbox keeps mail through an SMTP outage and a restart of the sender: this file runs its
 * own mail server, which it stops and starts again on the same ports.
 */
let ports: { smtpPort: number; httpPort: number };
let mail: MailServer;
let system: RunningSystem;
let nc: NatsConnection;
let jsm: JetStreamManager;
const logFile = () => path.join(inject("dataDir"), "logs", "mail-outbox-smtp.log");

beforeAll(async () => {
  ports = { smtpPort: await freePort(), httpPort: await freePort() };
  mail = await startMailServer({ ...ports, logFile: logFile() });
  system = await startTestSystem("mail-outbox", { env: { SMTP_URL: mail.smtpUrl } });
  nc = await connect(natsOptionsFromEnv(inject("storeEnv")));
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
  await system?.stop();
  await mail?.process.stop();
});

describe("mail outbox", () => {
  it("a mail queued while the SMTP server is down arrives once it is back, exactly once, across a restart of the sender", async () => {
    const anon = new TestApi(system.gatewayUrl());
    const { auth } = await anon.newUser();
    const email = auth.user.email;
    await mail.process.stop();

    expect((await anon.post("/api/auth/password/forgot", { email })).status).toBe(202);
    // Stored in the outbox, and tried at least once against the dead server.
    await vi.waitFor(
      async () => {
        const c = await jsm.consumers.info(Streams.mail, "mail-sender");
        expect(c.num_pending + c.num_ack_pending).toBeGreaterThanOrEqual(1);
        expect(c.delivered.stream_seq).toBeGreaterThanOrEqual((await jsm.streams.info(Streams.mail)).state.last_seq);
      },
      { timeout: 30_000 },
    );
    // The sender's process goes too; the mail is in the stream, not in its memory.
    for (const h of system.byName("auth")) await h.process.stop();

    mail = await startMailServer({ ...ports, logFile: logFile() });
    await system.start();
    const received = await waitForMail(email, 1, mail.mailboxUrl);
    expect(received[0]!.subject).toContain("Reset");
    // Acknowledged once sent, so the work queue lets it go, and it is not sent again.
    await vi.waitFor(async () => expect((await jsm.streams.info(Streams.mail)).state.messages).toBe(0), { timeout: 30_000 });
    expect(await mailTo(mail.mailboxUrl, email)).toHaveLength(1);
  });
});
