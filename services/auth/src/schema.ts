import type { Generated } from "kysely";
import type { Migration } from "@palimpsest/platform";
import { sql } from "kysely";

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: Date;
  /** Stream sequence of the last event applied to this row. */
  version: number;
  /**
   * Stream sequence of the last event on the user's own subject (password changes, reset requests),
   * 0 before any: what a password change is appended against, so a reset link works once.
   */
  account_version: Generated<number>;
}

/** Emailed password-reset links, by the hash of their token. */
export interface PasswordResetsTable {
  hash: string;
  user_id: string;
  expires_at: Date;
  requested_at: Date;
  /** When the link was used, or made useless by a newer password. */
  used_at: Date | null;
}

/** Emailed links that finish creating an account, by the hash of their token. */
export interface PendingRegistrationsTable {
  hash: string;
  /** The id the account gets when this link is opened. */
  user_id: string;
  email: string;
  name: string;
  password_hash: string;
  expires_at: Date;
  requested_at: Date;
  /** When the link created its account. */
  used_at: Date | null;
}

/** Notices emailed to an account's owner when someone tried to register with their address. */
export interface RegistrationNoticesTable {
  /** The event's id. */
  id: string;
  user_id: string;
  sent_at: Date;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
  created_at: Date;
  version: number;
}

export interface RefreshTokensTable {
  hash: string;
  session_id: string;
  /** `active` is the one token that may be used; `rotated` ones reveal theft when presented. */
  status: "active" | "rotated";
  created_at: Date;
}

/** API tokens for bots and scripts, by id; only the SHA-256 of each secret. */
export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  /** JSON array of scopes. */
  scopes: string[];
  secret_hash: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  version: number;
}

/**
 * When each API token was last used, to the minute. Not an event per request and not part of the
 * projection: a rebuild leaves it as it is, since no event says it.
 */
export interface ApiTokenUsageTable {
  token_id: string;
  last_used_at: Date;
}

export interface SigningKeysTable {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: Generated<Date>;
}

export interface AuthDb {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  password_resets: PasswordResetsTable;
  pending_registrations: PendingRegistrationsTable;
  registration_notices: RegistrationNoticesTable;
  api_tokens: ApiTokensTable;
  api_token_usage: ApiTokenUsageTable;
}

export const authMigrations: Record<string, Migration> = {
  "001_initial": {
    async up(db) {
      await db.schema
        .createTable("users")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("email", "text", (c) => c.notNull().unique())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("version", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("sessions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("expires_at", "timestamptz", (c) => c.notNull())
        .addColumn("revoked_at", "timestamptz")
        .addColumn("revoke_reason", "text")
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("version", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("refresh_tokens")
        .addColumn("hash", "text", (c) => c.primaryKey())
        .addColumn("session_id", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable("signing_keys")
        .addColumn("kid", "text", (c) => c.primaryKey())
        .addColumn("private_jwk", "text", (c) => c.notNull())
        .addColumn("public_jwk", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
  "002_passwords": {
    async up(db) {
      await db.schema.alterTable("users").addColumn("account_version", "bigint", (c) => c.notNull().defaultTo(0)).execute();
      await db.schema
        .createTable("password_resets")
        .addColumn("hash", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("expires_at", "timestamptz", (c) => c.notNull())
        .addColumn("requested_at", "timestamptz", (c) => c.notNull())
        .addColumn("used_at", "timestamptz")
        .execute();
      await db.schema.createIndex("password_resets_user_idx").on("password_resets").column("user_id").execute();
    },
  },
  "003_registration_confirmation": {
    async up(db) {
      await db.schema
        .createTable("pending_registrations")
        .addColumn("hash", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("email", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("expires_at", "timestamptz", (c) => c.notNull())
        .addColumn("requested_at", "timestamptz", (c) => c.notNull())
        .addColumn("used_at", "timestamptz")
        .execute();
      await db.schema.createIndex("pending_registrations_email_idx").on("pending_registrations").columns(["email", "requested_at"]).execute();
      await db.schema.createIndex("pending_registrations_user_idx").on("pending_registrations").column("user_id").execute();
      await db.schema
        .createTable("registration_notices")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("sent_at", "timestamptz", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("registration_notices_user_idx").on("registration_notices").columns(["user_id", "sent_at"]).execute();
    },
  },
  "004_api_tokens": {
    async up(db) {
      await db.schema
        .createTable("api_tokens")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("scopes", "jsonb", (c) => c.notNull())
        .addColumn("secret_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("expires_at", "timestamptz")
        .addColumn("revoked_at", "timestamptz")
        .addColumn("version", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("api_tokens_user_idx").on("api_tokens").columns(["user_id", "created_at"]).execute();
      await db.schema
        .createTable("api_token_usage")
        .addColumn("token_id", "text", (c) => c.primaryKey())
        .addColumn("last_used_at", "timestamptz", (c) => c.notNull())
        .execute();
    },
  },
};

/** The projection of the AUTH stream and the tables it alone writes (signing keys are secrets, not events). */
export const authProjections = { auth: ["api_tokens", "password_resets", "pending_registrations", "refresh_tokens", "registration_notices", "sessions", "users"] } as const;
