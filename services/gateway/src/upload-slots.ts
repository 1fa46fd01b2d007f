import type { Redis } from "@palimpsest/platform";

/**
 * Take a slot. KEYS[1] the user's slots (a sorted set: request id → when the slot lapses);
 * ARGV: now ms, slot lifetime ms, limit, request id. Lapsed slots (a gateway that died mid-upload)
 * are dropped first, so a slot is never held longer than an upload may take.
 */
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/**
 * How many uploads each user has under way, over every gateway replica: the connections to the
 * files replicas are shared by everyone, so no one user may hold more than a few of them.
 */
export class UploadSlots {
  constructor(
    private readonly redis: Redis,
    private readonly perUser: number,
    private readonly lifetimeMs: number,
    private readonly prefix = "ratelimit:uploads",
  ) {}

  /** True when the slot was taken; `release` must follow once the upload is over. */
  async take(userId: string, requestId: string): Promise<boolean> {
    const taken = await this.redis.eval(TAKE, 1, `${this.prefix}:${userId}`, String(Date.now()), String(this.lifetimeMs), String(this.perUser), requestId);
    return taken === 1;
  }

  async release(userId: string, requestId: string): Promise<void> {
    await this.redis.zrem(`${this.prefix}:${userId}`, requestId);
  }
}

/** Whether `received` bytes after `elapsedMs` fall behind the rate: the grace, then a second per `minBytesPerSecond` bytes. */
export function bodyTooSlow(elapsedMs: number, received: number, limits: { graceMs: number; minBytesPerSecond: number }): boolean {
  return elapsedMs > limits.graceMs + (received / limits.minBytesPerSecond) * 1000;
}

/**
 * A request body that must keep arriving: nothing is required for `graceMs`, then at least
 * `minBytesPerSecond` on average (Apache's mod_reqtimeout `body=…,MinRate=…`). A client that
 * trickles its body would otherwise hold a connection to a files replica for the whole proxy timeout.
 * Reads the socket's byte count only, so the body's stream is left to whoever consumes it.
 */
export function watchBodyRate(
  req: { complete: boolean; destroyed: boolean; socket: { bytesRead: number; destroyed: boolean }; once(event: "close", fn: () => void): unknown },
  limits: { graceMs: number; minBytesPerSecond: number },
  onTooSlow: (received: number, elapsedMs: number) => void,
): void {
  const started = Date.now();
  const startBytes = req.socket.bytesRead;
  const timer = setInterval(() => {
    if (req.complete || req.destroyed || req.socket.destroyed) {
      clearInterval(timer);
      return;
    }
    const elapsed = Date.now() - started;
    const received = req.socket.bytesRead - startBytes;
    if (bodyTooSlow(elapsed, received, limits)) {
      clearInterval(timer);
      onTooSlow(received, elapsed);
    }
  }, 500);
  timer.unref();
  req.once("close", () => clearInterval(timer));
}
