import { SignJWT } from "jose";
import { Counter } from "prom-client";
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { JetStreamClient } from "@nats-io/jetstream";
import {
  AppError,
  ChangePasswordBody,
  ConfirmRegistrationBody,
  EmptyBody,
  ForgotPasswordBody,
  ResetPasswordBody,
  LoginBody,
  LookupInput,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  parse,
  subjects,
  type AnyDomainEvent,
  type AuthResult,
  type RegistrationPending,
  type UserView,
} from "@palimpsest/contracts";
import { appendEvent, newEvent, queueMail, requireCaller, requireSessionCaller, type Logger, type Metrics, type RpcContext, type RpcResult } from "@palimpsest/platform";
import {
  checkEmail,
  checkPasswordPolicy,
  decoyPasswordHash,
  hashPassword,
  newRefreshToken,
  normaliseEmail,
  sha256Hex,
  verifyPassword,
} from "./credentials.ts";
import { applyAuthEvent } from "./auth-projection.ts";
import type { AuthDb } from "./schema.ts";
import type { SigningKeys } from "./signing-keys.ts";
import type { AuthConfig } from "./config.ts";

export interface AccountsDeps {
  db: Kysely<AuthDb>;
  js: JetStreamClient;
  keys: SigningKeys;
  config: AuthConfig;
  log: Logger;
  metrics: Metrics;
  /** Tells live connections that a session ended, so they close at once. */
  onSessionRevoked: (sessionId: string) => Promise<void>;
}

/** The auth service's commands and queries, each an RPC handler behind a gateway route. */
export function createAccounts(deps: AccountsDeps) {
  const { db, js, keys, config } = deps;
  const resetMails = new Counter({
    name: "auth_password_reset_mails_total",
    help: "password-reset requests for an existing account: queued, or limited (the address had its hourly share)",
    labelNames: ["outcome"] as const,
    registers: [deps.metrics.registry],
  });

  const registrationMails = new Counter({
    name: "auth_registration_mails_total",
    help: "registration requests confirmed by email: a link to a new address or a notice to an existing account's owner (kind), queued or limited (the address had its hourly share)",
    labelNames: ["kind", "outcome"] as const,
    registers: [deps.metrics.registry],
  });

  /** Whether the address was sent fewer reset emails than its hourly share, so a stranger cannot flood its inbox. */
  async function underResetMailLimit(userId: string): Promise<boolean> {
    const { n } = await db
      .selectFrom("password_resets")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("user_id", "=", userId)
      .where("requested_at", ">", new Date(Date.now() - 3_600_000))
      .executeTakeFirstOrThrow();
    return Number(n) < config.passwordResetMailsPerHour;
  }

  /** The same hourly share for registration mails, counted per address: links to it, or notices to its account's owner. */
  async function underRegistrationMailLimit(address: { email: string } | { userId: string }): Promise<boolean> {
    const since = new Date(Date.now() - 3_600_000);
    const { n } =
      "email" in address
        ? await db
            .selectFrom("pending_registrations")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .where("email", "=", address.email)
            .where("requested_at", ">", since)
            .executeTakeFirstOrThrow()
        : await db
            .selectFrom("registration_notices")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .where("user_id", "=", address.userId)
            .where("sent_at", ">", since)
            .executeTakeFirstOrThrow();
    return Number(n) < config.registrationMailsPerHour;
  }

  async function append(subject: string, event: AnyDomainEvent, expectedSeq: number | undefined, conflict?: () => AppError): Promise<void> {
    const { streamSeq } = await appendEvent(js, subject, event, {
      ...(expectedSeq === undefined ? {} : { expectedSeq }),
      ...(conflict ? { conflict } : {}),
    });
    // One transaction, so a reader never sees half an event (a session's new version beside its old token).
    await db.transaction().execute((trx) => applyAuthEvent(trx, event, streamSeq));
  }

  async function accessToken(user: UserView, sessionId: string): Promise<string> {
    const { kid, key } = await keys.active();
    return new SignJWT({ sid: sessionId, name: user.name })
      .setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" })
      .setSubject(user.id)
      .setIssuer(config.jwtIssuer)
      .setAudience(config.jwtAudience)
      .setIssuedAt()
      .setNotBefore("0s")
      .setJti(randomUUID())
      .setExpirationTime(`${config.accessTokenTtlSeconds}s`)
      .sign(key);
  }

  async function startSession(user: UserView): Promise<AuthResult> {
    const sessionId = randomUUID();
    const refresh = newRefreshToken();
    const expiresAt = new Date(Date.now() + config.refreshTokenTtlSeconds * 1000).toISOString();
    await append(
      subjects.session(sessionId),
      newEvent("session.started.v1", { sessionId, userId: user.id, refreshTokenHash: refresh.hash, expiresAt }, user.id),
      0,
    );
    return { user, accessToken: await accessToken(user, sessionId), refreshToken: refresh.token };
  }

  async function findUserByEmail(email: string) {
    return db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
  }

  const view = (u: { id: string; email: string; name: string }): UserView => ({ id: u.id, email: u.email, name: u.name });

  /**
   * Ends the user's sessions (all, or all but one): each gets its revocation event, and its
   * still-valid access tokens are refused from now on through the same path as a logout.
   */
  async function revokeSessions(userId: string, reason: "signed-out-everywhere" | "password-changed" | "password-reset", keep?: string): Promise<void> {
    let q = db.selectFrom("sessions").select("id").where("user_id", "=", userId).where("revoked_at", "is", null);
    if (keep) q = q.where("id", "!=", keep);
    for (const { id } of await q.execute()) {
      await append(subjects.session(id), newEvent("session.revoked.v2", { sessionId: id, reason }, userId), undefined);
      await deps.onSessionRevoked(id);
    }
  }

  /** A new password for the user, appended against the account's version so a reset link works once. */
  async function setPassword(user: { id: string; account_version: number }, passwordHash: string, via: "change" | "reset", resetTokenHash?: string): Promise<void> {
    await append(
      subjects.user(user.id),
      newEvent("user.password-changed.v1", { userId: user.id, passwordHash, via, ...(resetTokenHash ? { resetTokenHash } : {}) }, user.id),
      Number(user.account_version),
      () => (via === "reset" ? resetInvalid() : new AppError("CONFLICT", "the password was changed meanwhile; try again")),
    );
  }

  /**
   * A validly signed token naming no account (deleted, or minted with a leaked key) proves no
   * identity: the caller is not signed in, rather than asking for a missing resource.
   */
  const noSuchAccount = () => new AppError("UNAUTHENTICATED", "the signed-in account does not exist");
  const resetInvalid = () => new AppError("NOT_FOUND", "this reset link is no longer valid: it was used, replaced by a newer password, or has expired");

  async function emailResetLink(user: { id: string; email: string; name: string; account_version: number }): Promise<void> {
    const reset = newRefreshToken();
    const expiresAt = new Date(Date.now() + config.passwordResetTtlMinutes * 60_000).toISOString();
    const event = newEvent("user.password-reset-requested.v1", { userId: user.id, tokenHash: reset.hash, expiresAt }, user.id);
    await append(subjects.user(user.id), event, undefined);
    const link = `${config.publicUrl.replace(/\/+$/, "")}/reset-password/${reset.token}`;
    await queueMail(js, {
      id: event.id,
      kind: "password-reset",
      to: user.email,
      subject: "Reset your Palimpsest password",
      text:
        `Hello ${user.name},\n\nsomeone (hopefully you) asked to reset the password of your Palimpsest account. ` +
        `Open this link to choose a new one; it works once, for ${config.passwordResetTtlMinutes} minutes:\n${link}\n\n` +
        `Setting a new password signs you out everywhere. If you did not ask for this, ignore this email: your password stays as it is.\n`,
    });
  }

  const registrationLinkInvalid = () =>
    new AppError("REGISTRATION_LINK_INVALID", "this link no longer creates an account: it was used or has expired; register again to get a new one");

  /**
   * The part of a registration confirmed by email that happens after replying: a link for an address
   * without an account, a notice to the owner of one with, each within the address's hourly share.
   */
  async function requestRegistration(email: string, name: string, passwordHash: string): Promise<void> {
    const base = config.publicUrl.replace(/\/+$/, "");
    // Replicas may race past the limit by a request or two; it bounds a flood, not a count.
    const existing = await findUserByEmail(email);
    if (existing) {
      if (!(await underRegistrationMailLimit({ userId: existing.id }))) {
        registrationMails.inc({ kind: "notice", outcome: "limited" });
        return;
      }
      const event = newEvent("user.registration-notice-sent.v1", { userId: existing.id });
      await append(subjects.registration(sha256Hex(email)), event, undefined);
      await queueMail(js, {
        id: event.id,
        kind: "registration-notice",
        to: existing.email,
        subject: "Someone tried to create a Palimpsest account with your email",
        text:
          `Hello ${existing.name},\n\nsomeone (perhaps you) tried to create a Palimpsest account with this email address, ` +
          `which already has one. No account was created and nothing about yours changed.\n\n` +
          `If it was you, sign in: ${base}/\nForgot your password? Choose a new one: ${base}/forgot-password\n\n` +
          `If it was not you, you can ignore this email.\n`,
      });
      registrationMails.inc({ kind: "notice", outcome: "queued" });
      return;
    }
    if (!(await underRegistrationMailLimit({ email }))) {
      registrationMails.inc({ kind: "link", outcome: "limited" });
      return;
    }
    const link = newRefreshToken();
    const userId = randomUUID();
    const expiresAt = new Date(Date.now() + config.registrationLinkTtlHours * 3_600_000).toISOString();
    const event = newEvent("user.registration-requested.v1", { userId, email, name, passwordHash, tokenHash: link.hash, expiresAt });
    await append(subjects.registration(sha256Hex(email)), event, undefined);
    await queueMail(js, {
      id: event.id,
      kind: "registration-link",
      to: email,
      subject: "Finish creating your Palimpsest account",
      text:
        // No greeting with the name given: whoever registers chooses it, and this mail goes to an address they may not own.
        `Hello,\n\nopen this link to finish creating your Palimpsest account; it works once, ` +
        `for ${config.registrationLinkTtlHours} hours:\n${base}/register/confirm/${link.token}\n\n` +
        `If you did not ask for an account, ignore this email: none is created without the link.\n`,
    });
    registrationMails.inc({ kind: "link", outcome: "queued" });
  }

  return {
    /**
     * With REGISTRATION_CONFIRMATION=email the answer, and the time it takes (the password is hashed
     * either way), are the same whether or not the address has an account: what differs is mailed
     * to the address after replying, so only its owner learns it.
     */
    async register(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const body = parse(RegisterBody, input, "body");
      const email = normaliseEmail(body.email);
      checkEmail(email);
      checkPasswordPolicy(body.password, email);
      const name = body.name.trim();
      if (name.length === 0) throw new AppError("VALIDATION_FAILED", "name must not be empty");
      const passwordHash = await hashPassword(body.password);
      if (config.registrationConfirmation === "email") {
        void requestRegistration(email, name, passwordHash).catch((err: unknown) =>
          deps.log.error({ err, requestId: ctx.requestId }, "could not send a registration email"),
        );
        return { status: 202, body: { message: "check your email to finish creating your account" } satisfies RegistrationPending };
      }
      const userId = randomUUID();
      // The registration event itself claims the email: its subject is keyed by the email's hash
      // and must be empty, so of two registrations with one email exactly one is stored.
      await append(
        subjects.userByEmail(sha256Hex(email)),
        newEvent("user.registered.v1", { userId, email, name, passwordHash }, userId),
        0,
        () => new AppError("EMAIL_TAKEN", "an account with this email already exists"),
      );
      return { status: 201, body: await startSession({ id: userId, email, name }) };
    },

    /** Opens an emailed registration link: the account is created (the email claimed) and signed in, once. */
    async confirmRegistration(input: unknown): Promise<RpcResult> {
      if (config.registrationConfirmation !== "email") {
        throw new AppError("NOT_FOUND", "registration here is not confirmed by email: registering signs in at once");
      }
      const body = parse(ConfirmRegistrationBody, input, "body");
      const row = await db.selectFrom("pending_registrations").selectAll().where("hash", "=", sha256Hex(body.token)).executeTakeFirst();
      if (!row || row.used_at || row.expires_at.getTime() <= Date.now()) throw registrationLinkInvalid();
      const user = { id: row.user_id, email: row.email, name: row.name };
      // The same claim as an unconfirmed registration: if the address found an account meanwhile, this one is refused.
      await append(
        subjects.userByEmail(sha256Hex(user.email)),
        newEvent("user.registered.v1", { userId: user.id, email: user.email, name: user.name, passwordHash: row.password_hash }, user.id),
        0,
        () => new AppError("EMAIL_TAKEN", "an account with this email already exists"),
      );
      return { status: 201, body: await startSession(user) };
    },

    async login(input: unknown): Promise<RpcResult> {
      const body = parse(LoginBody, input, "body");
      const email = normaliseEmail(body.email);
      const user = await findUserByEmail(email);
      // An unknown email costs one hash verification too, so timing does not reveal which emails exist.
      const ok = await verifyPassword(user?.password_hash ?? (await decoyPasswordHash()), body.password);
      if (!user || !ok) throw new AppError("INVALID_CREDENTIALS", "email or password is incorrect");
      return { body: await startSession(view(user)) };
    },

    async refresh(input: unknown): Promise<RpcResult> {
      const body = parse(RefreshBody, input, "body");
      const presented = sha256Hex(body.refreshToken);
      // The token's status and the session's version in one statement, so they come from the same
      // moment: read apart, a concurrent rotation could land between them, and the stale token would
      // pass with the new version as its expected sequence.
      const row = await db
        .selectFrom("refresh_tokens as t")
        .innerJoin("sessions as s", "s.id", "t.session_id")
        .select(["t.status", "s.id", "s.user_id", "s.revoked_at", "s.expires_at", "s.version"])
        .where("t.hash", "=", presented)
        .executeTakeFirst();
      const invalid = () => new AppError("REFRESH_TOKEN_INVALID", "sign in again");
      if (!row) throw invalid();
      const token = { status: row.status };
      const session = { id: row.id, user_id: row.user_id, revoked_at: row.revoked_at, expires_at: row.expires_at, version: row.version };
      if (session.revoked_at || session.expires_at.getTime() < Date.now()) throw invalid();
      if (token.status === "rotated") {
        // A rotated token presented again means it was copied: end the whole session family.
        await append(subjects.session(session.id), newEvent("session.revoked.v1", { sessionId: session.id, reason: "reuse-detected" }), undefined);
        await deps.onSessionRevoked(session.id);
        throw invalid();
      }
      const user = await db.selectFrom("users").select(["id", "email", "name"]).where("id", "=", session.user_id).executeTakeFirstOrThrow();
      const next = newRefreshToken();
      const expiresAt = new Date(Date.now() + config.refreshTokenTtlSeconds * 1000).toISOString();
      // Expected sequence: of two refreshes with the same token, one rotates and the other is refused.
      await append(
        subjects.session(session.id),
        newEvent("session.refreshed.v1", { sessionId: session.id, previousTokenHash: presented, refreshTokenHash: next.hash, expiresAt }, user.id),
        session.version,
        invalid,
      );
      return { body: { user: view(user), accessToken: await accessToken(view(user), session.id), refreshToken: next.token } satisfies AuthResult };
    },

    async logout(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      parse(LogoutBody, input ?? {}, "body");
      const caller = requireSessionCaller(ctx);
      const session = await db.selectFrom("sessions").select(["id", "revoked_at"]).where("id", "=", caller.sessionId).executeTakeFirst();
      if (session && !session.revoked_at) {
        await append(subjects.session(session.id), newEvent("session.revoked.v1", { sessionId: session.id, reason: "logout" }, caller.userId), undefined);
      }
      await deps.onSessionRevoked(caller.sessionId);
      return { status: 204, body: null };
    },

    /** Ends every session of the caller's, this one included. */
    async logoutEverywhere(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      parse(EmptyBody, input ?? {}, "body");
      const caller = requireSessionCaller(ctx);
      await revokeSessions(caller.userId, "signed-out-everywhere");
      // The caller's own session may not be in the table yet on a lagging replica: refuse its tokens all the same.
      await deps.onSessionRevoked(caller.sessionId);
      return { status: 204, body: null };
    },

    async changePassword(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const body = parse(ChangePasswordBody, input, "body");
      const caller = requireSessionCaller(ctx);
      const user = await db.selectFrom("users").select(["id", "email", "password_hash", "account_version"]).where("id", "=", caller.userId).executeTakeFirst();
      if (!user) throw noSuchAccount();
      if (!(await verifyPassword(user.password_hash, body.currentPassword))) throw new AppError("INVALID_CREDENTIALS", "the current password is incorrect");
      checkPasswordPolicy(body.newPassword, user.email);
      await setPassword(user, await hashPassword(body.newPassword), "change");
      // Whoever else holds a session (a stolen one, say) is out; this one stays signed in.
      await revokeSessions(user.id, "password-changed", caller.sessionId);
      return { status: 204, body: null };
    },

    /**
     * Emails a reset link when an account has the address and it had fewer than its hourly share.
     * The answer, and the time it takes, are the same either way: the mail is prepared after
     * replying, so nobody learns which emails exist or which were limited.
     */
    async forgotPassword(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const body = parse(ForgotPasswordBody, input, "body");
      const email = normaliseEmail(body.email);
      void (async () => {
        const user = await db.selectFrom("users").select(["id", "email", "name", "account_version"]).where("email", "=", email).executeTakeFirst();
        if (!user) return;
        // Replicas may race past the limit by a request or two; it bounds a flood, not a count.
        if (!(await underResetMailLimit(user.id))) {
          resetMails.inc({ outcome: "limited" });
          return;
        }
        await emailResetLink(user);
        resetMails.inc({ outcome: "queued" });
      })().catch((err: unknown) => deps.log.error({ err, requestId: ctx.requestId }, "could not send a password-reset email"));
      return { status: 202, body: { message: "if an account has this email, a reset link is on its way" } };
    },

    async resetPassword(input: unknown): Promise<RpcResult> {
      const body = parse(ResetPasswordBody, input, "body");
      const tokenHash = sha256Hex(body.token);
      const row = await db
        .selectFrom("password_resets as r")
        .innerJoin("users as u", "u.id", "r.user_id")
        .select(["u.id", "u.email", "u.account_version", "r.expires_at", "r.used_at"])
        .where("r.hash", "=", tokenHash)
        .executeTakeFirst();
      if (!row || row.used_at || row.expires_at.getTime() <= Date.now()) throw resetInvalid();
      checkPasswordPolicy(body.password, row.email);
      await setPassword(row, await hashPassword(body.password), "reset", tokenHash);
      await revokeSessions(row.id, "password-reset");
      return { status: 204, body: null };
    },

    async me(_input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const user = await db.selectFrom("users").select(["id", "email", "name"]).where("id", "=", caller.userId).executeTakeFirst();
      if (!user) throw noSuchAccount();
      return { body: { user: view(user) } };
    },

    /** Internal: the account behind an email, so sharing finds people who registered a moment ago. */
    async lookup(input: unknown): Promise<RpcResult> {
      const { email } = parse(LookupInput, input, "lookup");
      const user = await findUserByEmail(normaliseEmail(email));
      return { body: user ? view(user) : null };
    },

    async jwks(): Promise<RpcResult> {
      return { body: await keys.jwks() };
    },
  };
}
