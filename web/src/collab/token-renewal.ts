// Renewing a refused access token, at most once per successful sync, so that a server that keeps
// refusing fresh tokens cannot trap us in a refresh/reconnect loop.

export type RenewalOutcome =
  /** Already renewed since the last sync and refused again: the session is over. */
  | { kind: "spent" }
  /** The auth service could not be reached; the next attempt may renew again. */
  | { kind: "unreachable" }
  /** The session has ended (signed out, revoked). */
  | { kind: "ended" }
  | { kind: "renewed"; token: string };

export class TokenRenewal {
  private refreshedSinceSync = false;

  constructor(private readonly refresh: (stale: string) => Promise<string | null>) {}

  /** A sync completed: the token in use works, so a later refusal may be answered with a renewal again. */
  synced(): void {
    this.refreshedSinceSync = false;
  }

  /** Whether a refused token would be renewed now (rather than end the session). */
  get available(): boolean {
    return !this.refreshedSinceSync;
  }

  async renew(stale: string): Promise<RenewalOutcome> {
    if (this.refreshedSinceSync) return { kind: "spent" };
    this.refreshedSinceSync = true;
    let next: string | null;
    try {
      next = await this.refresh(stale);
    } catch {
      this.refreshedSinceSync = false;
      return { kind: "unreachable" };
    }
    return next ? { kind: "renewed", token: next } : { kind: "ended" };
  }
}
