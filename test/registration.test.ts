import { createHash, randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { Streams, subjects, type AuthResult, type ErrorBody, type UserView } from "@palimpsest/contracts";
import { mailTo } from "@palimpsest/devkit";
import { appendEvent, newEvent } from "@palimpsest/platform";
import { useSystem } from "./system.ts";
import { mailbox, tokenIn, waitForMail } from "./mail-helpers.ts";
import { storedOnSubject } from "./stream-helpers.ts";

const ctx = useSystem("registration", { env: { REGISTRATION_CONFIRMATION: "email" } });
const PASSWORD = "correct horse battery staple";
const OTHER = "another long passphrase";
const LINK = "/register/confirm/";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const newAddress = () => `reg-${randomUUID()}@example.test`;

/** The register call as a client sees it, to the byte. */
async function register(email: string, password = PASSWORD, name = "Robin") {
  const res = await fetch(`${ctx.system.gatewayUrl()}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, name }),
  });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

const confirm = (token: string) => ctx.anon.post<AuthResult & ErrorBody>("/api/auth/register/confirm", { token });
const login = (email: string, password: string) => ctx.anon.post("/api/auth/login", { email, password });

/** Registration mails the auth replicas turned away for an address's hourly share, from their /metrics. */
async function limited(kind: "link" | "notice"): Promise<number> {
  let total = 0;
  for (const h of ctx.system.byName("auth")) {
    const text = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
    const line = new RegExp(`^auth_registration_mails_total\\{(?=[^}]*kind="${kind}")(?=[^}]*outcome="limited")[^}]*\\} (\\d+)$`, "gm");
    for (const m of text.matchAll(line)) total += Number(m[1]);
  }
  return total;
}

/** An account made the way this system makes them: by the emailed link. */
async function account(email = newAddress()) {
  expect((await register(email)).status).toBe(202);
  const [mail] = await waitForMail(email);
  const created = await confirm(tokenIn(mail!, LINK));
  expect(created.status).toBe(201);
  return { email, created: created.body, mails: 1 };
}

describe("registration confirmed by email", () => {
  it("answers a taken address and a new one byte for byte alike", async () => {
    const { email: taken } = await account();
    const fresh = newAddress();
    const forTaken = await register(taken, OTHER, "Someone else");
    const forNew = await register(fresh, OTHER, "Someone else");
    expect(forTaken.status).toBe(202);
    expect(forNew).toEqual(forTaken);
    expect(JSON.parse(forNew.text)).toEqual({ message: "check your email to finish creating your account" });
    // What differs goes to the address, where only its owner reads it.
    await waitForMail(taken, 2);
    await waitForMail(fresh, 1);
  });

  it("still refuses a malformed address or a weak password up front (that reveals nothing)", async () => {
    expect(JSON.parse((await register("not-an-address")).text).error.code).toBe("VALIDATION_FAILED");
    expect(JSON.parse((await register(newAddress(), "short")).text).error.code).toBe("WEAK_PASSWORD");
  });

  it("a new address gets a link that creates the account and signs in, once", async () => {
    const email = newAddress();
    expect((await register(email)).status).toBe(202);
    // No account until the link is opened.
    expect((await login(email, PASSWORD)).status).toBe(401);
    const [mail] = await waitForMail(email);
    expect(mail!.text).toContain(`${LINK}`);
    // Whoever registers chooses the name, and may not own the address: it is not written to it.
    expect(mail!.text).not.toContain("Robin");
    const token = tokenIn(mail!, LINK);

    const created = await confirm(token);
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ email, name: "Robin" });
    const me = await ctx.anon.withToken(created.body.accessToken).get<{ user: UserView }>("/api/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual(created.body.user);
    expect((await ctx.anon.post("/api/auth/refresh", { refreshToken: created.body.refreshToken })).status).toBe(200);
    expect((await login(email, PASSWORD)).status).toBe(200);

    const again = await confirm(token);
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe("REGISTRATION_LINK_INVALID");
    expect(await storedOnSubject(ctx.jsm, Streams.auth, subjects.userByEmail(sha256(email)))).toBe(1);
  });

  it("a taken address's owner is told instead, and the account stays as it was", async () => {
    const { email, created } = await account();
    expect((await register(email, OTHER, "Mallory")).status).toBe(202);
    const mails = await waitForMail(email, 2);
    const notice = mails[1]!;
    expect(notice.text).toMatch(/already has one/);
    expect(notice.text).not.toContain(LINK);
    expect(await storedOnSubject(ctx.jsm, Streams.auth, subjects.userByEmail(sha256(email)))).toBe(1);
    expect((await login(email, OTHER)).status).toBe(401);
    expect((await login(email, PASSWORD)).status).toBe(200);
    const me = await ctx.anon.withToken(created.accessToken).get<{ user: UserView }>("/api/auth/me");
    expect(me.body.user).toEqual(created.user);
  });

  it("a link for an address someone registered meanwhile is refused with EMAIL_TAKEN", async () => {
    const email = newAddress();
    await register(email);
    await waitForMail(email, 1);
    await register(email, OTHER);
    const [first, second] = await waitForMail(email, 2);
    expect((await confirm(tokenIn(second!, LINK))).status).toBe(201);
    const late = await confirm(tokenIn(first!, LINK));
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("EMAIL_TAKEN");
    expect((await login(email, OTHER)).status).toBe(200);
  });

  it("refuses an expired link and a made-up one", async () => {
    // Two requests appended straight to the stream, as auth would: one expired, then one still good.
    const js = jetstream(ctx.nc);
    const email = newAddress();
    const passwordHash = "$argon2id$v=19$m=19456,t=2,p=1$not-a-real-hash-but-long";
    const expired = randomBytes(32).toString("base64url");
    const good = randomBytes(32).toString("base64url");
    for (const [token, expiresAt] of [
      [expired, new Date(Date.now() - 1_000).toISOString()],
      [good, new Date(Date.now() + 3_600_000).toISOString()],
    ] as const) {
      const data = { userId: randomUUID(), email, name: "Robin", passwordHash, tokenHash: sha256(token), expiresAt };
      await appendEvent(js, subjects.registration(sha256(email)), newEvent("user.registration-requested.v1", data));
    }
    // The projection applies in stream order: once the good link works, the expired one is in too.
    await vi.waitFor(async () => expect((await confirm(good)).status).not.toBe(400), { timeout: 30_000, interval: 200 });
    const refused = await confirm(expired);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("REGISTRATION_LINK_INVALID");
    expect((await confirm(randomBytes(32).toString("base64url"))).body.error.code).toBe("REGISTRATION_LINK_INVALID");
  });

  it("sends one address at most 3 links an hour, and an account's owner at most 3 notices; beyond, the same answer and no email", async () => {
    const email = newAddress();
    const linksBefore = await limited("link");
    const answers = [];
    for (let i = 1; i <= 3; i++) {
      answers.push(await register(email));
      await waitForMail(email, i);
    }
    answers.push(await register(email));
    await vi.waitFor(async () => expect(await limited("link")).toBe(linksBefore + 1), { timeout: 30_000 });
    expect(await mailTo(mailbox(), email)).toHaveLength(3);

    // The address now has an account (from its first link); its owner's notices have the same share.
    await confirm(tokenIn((await mailTo(mailbox(), email))[0]!, LINK));
    const noticesBefore = await limited("notice");
    for (let i = 1; i <= 3; i++) {
      answers.push(await register(email));
      await waitForMail(email, 3 + i);
    }
    answers.push(await register(email));
    await vi.waitFor(async () => expect(await limited("notice")).toBe(noticesBefore + 1), { timeout: 30_000 });
    expect(await mailTo(mailbox(), email)).toHaveLength(6);
    for (const a of answers) expect(a).toEqual(answers[0]);
  });
});
