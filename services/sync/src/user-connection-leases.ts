import type { Logger, Redis } from "@palimpsest/platform";

/**
 * Take a lease. KEYS[1] the user's leases (a sorted set of "<docId> <connId> <replicaId>" → when
 * the lease lapses), KEYS[2] the replica's index of users it holds leases for; ARGV: now ms, lease
 * ms, most connections, most documents, docId, member. Lapsed leases (a replica that died without
 * closing its connections) are dropped first. Answers 1 when taken, -1 over the connection limit,
 * -2 over the document limit.
 */
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local held = redis.call('ZRANGE', KEYS[1], 0, -1)
if #held >= tonumber(ARGV[3]) then return -1 end
local docs = {}
local count = 0
local open = false
for _, m in ipairs(held) do
  local doc = string.match(m, '^(%S+) ')
  if doc and not docs[doc] then
    docs[doc] = true
    count = count + 1
    if doc == ARGV[5] then open = true end
  end
end
if not open and count >= tonumber(ARGV[4]) then return -2 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`;

interface Held {
  userId: string;
  member: string;
}

/**
 * What each user has open over every sync replica, as leases in Redis: the gateways spread a
 * user's documents over the replicas, so a count kept by each replica alone would allow the limits
 * once per replica. Each replica renews the leases of its open connections; a replica that dies
 * stops renewing, and its leases lapse; the replicas that notice it is gone (its heartbeats
 * stop) release them at once, so that its clients, reconnecting to them, are not refused for
 * places they no longer hold. When Redis cannot answer, the connection is let through: the
 * per-replica count (UserConnections) still bounds what one replica holds.
 */
export class UserConnectionLeases {
  private readonly held = new Map<string, Held>();
  private readonly renewal: NodeJS.Timeout;
  private lastWarning = 0;

  constructor(
    private readonly redis: Redis,
    private readonly limits: { maxConnections: number; maxDocuments: number },
    private readonly log: Logger,
    private readonly replicaId: string,
    private readonly leaseMs = 60_000,
    private readonly prefix = "collab:leases",
  ) {
    this.renewal = setInterval(() => void this.renew(), Math.max(1_000, Math.floor(leaseMs / 3)));
    this.renewal.unref();
  }

  /** Takes a lease for the connection, or says why it is refused. */
  async open(userId: string, docId: string, connId: string): Promise<string | null> {
    const member = `${docId} ${connId} ${this.replicaId}`;
    let answer: unknown;
    try {
      answer = await this.redis.eval(TAKE, 2, this.key(userId), this.indexKey(this.replicaId), String(Date.now()), String(this.leaseMs), String(this.limits.maxConnections), String(this.limits.maxDocuments), docId, member);
    } catch (err) {
      this.warn(err, "connection leases unavailable; counting on this replica only");
      return null;
    }
    if (answer === -1) return `too many open connections: at most ${this.limits.maxConnections} per user; close some tabs and try again`;
    if (answer === -2) return `too many open documents: at most ${this.limits.maxDocuments} per user; close some and try again`;
    this.held.set(connId, { userId, member });
    return null;
  }

  close(connId: string): void {
    const h = this.held.get(connId);
    if (!h) return;
    this.held.delete(connId);
    this.redis.zrem(this.key(h.userId), h.member).catch((err: unknown) => this.warn(err, "could not release a connection lease; it lapses by itself"));
  }

  stop(): void {
    clearInterval(this.renewal);
  }

  /**
   * Releases every lease a replica that is gone still holds. Any replica that noticed may do it,
   * several at once too; a lease renewed meanwhile by a replica that was only silent for a while
   * is released all the same, and counts again only from its connection's next lease.
   */
  async releaseReplica(replicaId: string): Promise<number> {
    if (replicaId === this.replicaId) return 0;
    const suffix = ` ${replicaId}`;
    try {
      const users = await this.redis.smembers(this.indexKey(replicaId));
      let released = 0;
      for (const key of users) {
        const theirs = (await this.redis.zrange(key, 0, -1)).filter((m) => m.endsWith(suffix));
        if (theirs.length > 0) released += await this.redis.zrem(key, ...theirs);
      }
      await this.redis.del(this.indexKey(replicaId));
      if (released > 0) this.log.info({ replica: replicaId, released }, "released the connection leases of a sync replica that is gone");
      return released;
    } catch (err) {
      this.warn(err, "could not release the connection leases of a replica that is gone; they lapse by themselves");
      return 0;
    }
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const until = String(Date.now() + this.leaseMs);
    // One write per user, not per connection: a user with many tabs renews them together.
    const byUser = new Map<string, string[]>();
    for (const h of this.held.values()) {
      const key = this.key(h.userId);
      const members = byUser.get(key);
      if (members) members.push(until, h.member);
      else byUser.set(key, [until, h.member]);
    }
    const batch = this.redis.pipeline();
    for (const [key, scoresAndMembers] of byUser) {
      // XX: a lease released meanwhile is not brought back.
      batch.zadd(key, "XX", ...scoresAndMembers);
      batch.pexpire(key, this.leaseMs);
    }
    batch.sadd(this.indexKey(this.replicaId), ...byUser.keys());
    batch.pexpire(this.indexKey(this.replicaId), this.leaseMs);
    try {
      await batch.exec();
    } catch (err) {
      this.warn(err, "could not renew connection leases");
    }
  }

  private key(userId: string): string {
    return `${this.prefix}:${userId}`;
  }

  /** The users a replica holds leases for, so that they can be found when it is gone. */
  private indexKey(replicaId: string): string {
    return `${this.prefix}-of-replica:${replicaId}`;
  }

  /** Once a minute at most: a Redis outage would otherwise log once per connection. */
  private warn(err: unknown, msg: string): void {
    if (Date.now() - this.lastWarning < 60_000) return;
    this.lastWarning = Date.now();
    this.log.warn({ err }, msg);
  }
}
