import { hash, verify } from "@node-rs/argon2";
import { createHash, randomBytes } from "node:crypto";
import { AppError } from "@palimpsest/contracts";

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. */
const ARGON2 = { // 2 = Argon2id (a const enum in the typings, so spelled out here).
  algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export { normaliseEmail } from "@palimpsest/contracts";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkEmail(email: string): void {
  if (!EMAIL.test(email) || email.length > 320) throw new AppError("VALIDATION_FAILED", "enter a valid email address");
}

/**
 * Length is what makes a password strong (NIST SP 800-63B): at least 10 characters,
 * not only one repeated character, and not the email itself.
 */
export function checkPasswordPolicy(password: string, email: string): void {
  const problems: string[] = [];
  if ([...password].length < 10) problems.push("at least 10 characters");
  if ([...password].length > 256) problems.push("at most 256 characters");
  if (/^(.)\1*$/u.test(password)) problems.push("more than one distinct character");
  if (password.toLowerCase() === email || password.toLowerCase() === email.split("@")[0]) problems.push("not your email address");
  if (problems.length > 0) throw new AppError("WEAK_PASSWORD", `password needs ${problems.join(", ")}`);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Verified against when the email is unknown, so a miss costs the same time as a wrong password. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hash(randomBytes(16).toString("hex"), ARGON2);
  return decoyHash;
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Refresh tokens are opaque random strings; only their hash is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: sha256Hex(token) };
}
