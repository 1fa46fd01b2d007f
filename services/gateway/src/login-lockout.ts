import { createHash } from "node:crypto";
import type { Redis } from "@palimpsest/platform";

export interface LockoutPolicy {
  failuresPerAddress: number;
  failuresPerAccount: number;
  windowSeconds: number;
  lockoutSeconds: number;
  maxLockoutSeconds: number;
}

/** How long repeated lockouts of one account for one address are remembered, so each doubles. */
const STRIKES_TTL_MS = 24 * 3600 * 1000;

/**
 * A failed sign-in. KEYS: 1 failures of the account from the address, 2 its lock, 3 its strikes
 * (lockouts that day), 4 failures of the account from everywhere, 5 the account's lock.
 * ARGV: window ms, per-address limit, per-account limit, first lock ms, longest lock ms, strikes ttl ms.
 * A lock starts a new count, so each further lock takes as many failures as the first.
 */
const FAILED = `
local pf = redis.call('INCR', KEYS[1])
if pf == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local af = redis.call('INCR', KEYS[4])
if af == 1 then redis.call('PEXPIRE', KEYS[4], ARGV[1]) end
if pf >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  local s = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
  local ms = math.min(tonumber(ARGV[4]) * 2 ^ (s - 1), tonumber(ARGV[5]))
  redis.call('SET', KEYS[2], '1', 'PX', math.floor(ms))
end
if af >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[4])
  redis.call('SET', KEYS[5], '1', 'PX', ARGV[4])
end
return 1
`;

/** Normalised and hashed: the same account however its email is typed, and no addresses of people in Redis keys. */
export const accountKey = (email: string): string => createHash("sha256").update(email.trim().toLowerCase()).digest("base64url").slice(0, 32);

/**
 * Sign-in lockout kept in Redis, shared by every gateway replica. An account is locked first for
 * the address the failures come from (growing with each lockout), and for everyone only once
 * failures from all addresses pile up (short, never growing): see the config's notes.
 */
export class LoginLockout {
  constructor(
    private readonly redis: Redis,
    private readonly policy: LockoutPolicy,
    private readonly prefix = "ratelimit:signin",
  ) {}

  private keys(email: string, address: string) {
    const account = `${this.prefix}:${accountKey(email)}`;
    const pair = `${account}:${address}`;
    return { pairFails: `${pair}:fails`, pairLock: `${pair}:lock`, pairStrikes: `${pair}:strikes`, accountFails: `${account}:fails`, accountLock: `${account}:lock` };
  }

  /** Seconds until this account may be tried again from this address; 0 when it may now. */
  async lockedFor(email: string, address: string): Promise<number> {
    const k = this.keys(email, address);
    const [pair, account] = (await this.redis.pipeline().pttl(k.pairLock).pttl(k.accountLock).exec()) ?? [];
    const ms = Math.max(Number(pair?.[1] ?? -2), Number(account?.[1] ?? -2));
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  async failed(email: string, address: string): Promise<void> {
    const k = this.keys(email, address);
    const p = this.policy;
    await this.redis.eval(
      FAILED,
      5,
      k.pairFails,
      k.pairLock,
      k.pairStrikes,
      k.accountFails,
      k.accountLock,
      String(p.windowSeconds * 1000),
      String(p.failuresPerAddress),
      String(p.failuresPerAccount),
      String(p.lockoutSeconds * 1000),
      String(Math.max(p.lockoutSeconds, p.maxLockoutSeconds) * 1000),
      String(STRIKES_TTL_MS),
    );
  }

  /** The right password from this address: its count starts over; failures from elsewhere still count. */
  async succeeded(email: string, address: string): Promise<void> {
    const k = this.keys(email, address);
    await this.redis.del(k.pairFails, k.pairStrikes);
  }
}
