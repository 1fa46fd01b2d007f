import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { AuthResult, ErrorBody } from "@palimpsest/contracts";
import { useSystem } from "./system.ts";
import { mailTo } from "@palimpsest/devkit";
import { mailbox, tokenIn, waitForMail } from "./mail-helpers.ts";

const ctx = useSystem("passwords");
const OLD = "correct horse battery staple";
const NEW = "a brand new passphrase here";

async function account() {
  const email = `pw-${randomUUID()}@example.test`;
  const first = await ctx.anon.post<AuthResult>("/api/auth/register", { email, password: OLD, name: "Pat" });
  expect(first.status).toBe(201);
  const second = await ctx.anon.post<AuthResult>("/api/auth/login", { email, password: OLD });
  expect(second.status).toBe(200);
  return { email, first: first.body, second: second.body };
}

const me = (token: string) => ctx.anon.withToken(token).get<ErrorBody>("/api/auth/me");
const refresh = (refreshToken: string) => ctx.anon.post<ErrorBody>("/api/auth/refresh", { refreshToken });
const login = (email: string, password: string) => ctx.anon.post("/api/auth/login", { email, password });

/** Reset requests the auth replicas turned away for an address's hourly share, from their /metrics. */
async function limitedResetMails(): Promise<number> {
  let total = 0;
  for (const h of ctx.system.byName("auth")) {
    const text = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
    for (const m of text.matchAll(/^auth_password_reset_mails_total\{[^}]*outcome="limited"[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  }
  return total;
}

describe("change password", () => {
  it("needs the current password, and ends every other session", async () => {
    const { email, first, second } = await account();
    const api = ctx.anon.withToken(first.accessToken);
    const wrong = await api.post<ErrorBody>("/api/auth/password", { currentPassword: "not the password", newPassword: NEW });
    expect(wrong.status).toBe(401);
    expect((await api.post<ErrorBody>("/api/auth/password", { currentPassword: OLD, newPassword: "short" })).body.error.code).toBe("WEAK_PASSWORD");

    expect((await api.post("/api/auth/password", { currentPassword: OLD, newPassword: NEW })).status).toBe(204);
    // The other session is over, its access token included; this one carries on.
    expect((await me(second.accessToken)).body.error.code).toBe("SESSION_REVOKED");
    expect((await refresh(second.refreshToken)).status).toBe(401);
    expect((await me(first.accessToken)).status).toBe(200);
    expect((await refresh(first.refreshToken)).status).toBe(200);
    expect((await login(email, OLD)).status).toBe(401);
    expect((await login(email, NEW)).status).toBe(200);
  });
});

describe("sign out everywhere", () => {
  it("ends every session of the user, this one included", async () => {
    const { first, second } = await account();
    expect((await ctx.anon.withToken(second.accessToken).post("/api/auth/logout-everywhere", {})).status).toBe(204);
    for (const s of [first, second]) {
      expect((await me(s.accessToken)).status).toBe(401);
      expect((await refresh(s.refreshToken)).status).toBe(401);
    }
  });
});

describe("password reset", () => {
  it("answers the same whether or not the email has an account", async () => {
    const { email } = await account();
    const known = await ctx.anon.post("/api/auth/password/forgot", { email });
    const unknown = await ctx.anon.post("/api/auth/password/forgot", { email: `nobody-${randomUUID()}@example.test` });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(known.status);
    expect(unknown.body).toEqual(known.body);
  });

  it("the emailed link sets a new password once, and ends every session", async () => {
    const { email, first, second } = await account();
    expect((await ctx.anon.post("/api/auth/password/forgot", { email })).status).toBe(202);
    const [mail] = await waitForMail(email);
    const token = tokenIn(mail!, "/reset-password/");

    expect((await ctx.anon.post<ErrorBody>("/api/auth/password/reset", { token, password: "short" })).body.error.code).toBe("WEAK_PASSWORD");
    expect((await ctx.anon.post("/api/auth/password/reset", { token, password: NEW })).status).toBe(204);
    for (const s of [first, second]) {
      expect((await me(s.accessToken)).status).toBe(401);
      expect((await refresh(s.refreshToken)).status).toBe(401);
    }
    expect((await login(email, OLD)).status).toBe(401);
    expect((await login(email, NEW)).status).toBe(200);
    // Used: the link sets nothing a second time.
    expect((await ctx.anon.post("/api/auth/password/reset", { token, password: "yet another passphrase" })).status).toBe(404);
    expect((await login(email, NEW)).status).toBe(200);
  });

  it("a newer password makes an earlier, unused link useless", async () => {
    const { email, first } = await account();
    await ctx.anon.post("/api/auth/password/forgot", { email });
    const token = tokenIn((await waitForMail(email))[0]!, "/reset-password/");
    expect((await ctx.anon.withToken(first.accessToken).post("/api/auth/password", { currentPassword: OLD, newPassword: NEW })).status).toBe(204);
    expect((await ctx.anon.post("/api/auth/password/reset", { token, password: "yet another passphrase" })).status).toBe(404);
    expect((await ctx.anon.post("/api/auth/password/reset", { token: "y".repeat(43), password: "yet another passphrase" })).status).toBe(404);
  });

  it("sends one address at most 3 reset emails an hour (the default); beyond, the same answer and no email", async () => {
    const { email } = await account();
    const limitedBefore = await limitedResetMails();
    const answers = [];
    for (let i = 1; i <= 3; i++) {
      answers.push(await ctx.anon.post("/api/auth/password/forgot", { email }));
      await waitForMail(email, i);
    }
    answers.push(await ctx.anon.post("/api/auth/password/forgot", { email }));
    for (const a of answers) {
      expect(a.status).toBe(202);
      expect(a.body).toEqual(answers[0]!.body);
    }
    // Once the fourth request was turned away, its mail can no longer be on its way.
    await vi.waitFor(async () => expect(await limitedResetMails()).toBe(limitedBefore + 1), { timeout: 30_000 });
    expect(await mailTo(mailbox(), email)).toHaveLength(3);
  });
});
