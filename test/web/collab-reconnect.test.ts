// The web client's decisions after a /collab connection closes, its token renewal and its status.
import { describe, expect, it } from "vitest";
import { CloseCodes } from "@palimpsest/contracts/shared";
import { RATE_LIMIT_RETRY_MS, decideAfterClose, refusalMessage, shouldReconnect, silentDenial } from "../../web/src/collab/reconnect.ts";
import { TokenRenewal } from "../../web/src/collab/token-renewal.ts";
import { statusOf, type StatusFacts } from "../../web/src/collab/collab-state.ts";

describe("decideAfterClose", () => {
  it("given an unauthenticated close, when decided, then the token is renewed", () => {
    expect(decideAfterClose(CloseCodes.unauthenticated, "UNAUTHENTICATED", null)).toEqual({ action: "refresh-token" });
  });

  it("given a rate-limited close, when decided, then the connection is retried after a pause", () => {
    expect(decideAfterClose(CloseCodes.rateLimited, "RATE_LIMITED", null)).toEqual({ action: "retry", delayMs: RATE_LIMIT_RETRY_MS });
  });

  it("given a forbidden or not-found close, when decided, then it stops with a problem of that kind", () => {
    expect(decideAfterClose(CloseCodes.forbidden, "FORBIDDEN", null)).toMatchObject({ action: "stop", problem: { kind: "no-access" } });
    expect(decideAfterClose(CloseCodes.notFound, "NOT_FOUND", null)).toMatchObject({ action: "stop", problem: { kind: "not-found" } });
  });

  it("given a message too big, when decided, then it stops and says the changes are not saved, instead of sending them again forever", () => {
    expect(shouldReconnect(CloseCodes.messageTooBig)).toBe(false);
    expect(decideAfterClose(CloseCodes.messageTooBig, "message too big", null)).toMatchObject({ action: "stop", problem: { kind: "rejected", message: expect.stringMatching(/too large to save.*not saved/) } });
    expect(shouldReconnect(CloseCodes.serviceRestart)).toBe(true);
    expect(shouldReconnect(CloseCodes.forbidden)).toBe(false);
  });

  it("given any other close, when decided, then it stops as rejected, explained by what the server said", () => {
    const decision = decideAfterClose(4400, "VALIDATION_FAILED", "the document id is malformed");
    expect(decision).toEqual({ action: "stop", problem: { kind: "rejected", message: "The server refused to open this document: the document id is malformed" } });
  });
});

describe("refusalMessage", () => {
  it("given only an error code as the reason, when explained, then people are told the code and to reload", () => {
    expect(refusalMessage(4400, "VALIDATION_FAILED", null)).toBe("The server closed the connection (code 4400). Reload the page to try again.");
  });

  it("given a readable reason and no auth message, when explained, then the reason is shown", () => {
    expect(refusalMessage(4400, "document too large", null)).toBe("The server refused to open this document: document too large");
  });

  it("given an auth message, when explained, then it wins over the close reason", () => {
    expect(refusalMessage(4400, "document too large", "no access")).toBe("The server refused to open this document: no access");
  });
});

describe("silentDenial", () => {
  it("given a denial followed by a generic close, when judged, then it is a lasting no-access", () => {
    expect(silentDenial(1006, "not a member", false)).toEqual({ kind: "no-access", message: "You don't have access to this document. (not a member)" });
  });

  it("given no denial, a refusal close code, or refused writes only, when judged, then it is not a denial", () => {
    expect(silentDenial(1006, null, false)).toBeNull();
    expect(silentDenial(CloseCodes.forbidden, "not a member", false)).toBeNull();
    expect(silentDenial(1006, "read only", true)).toBeNull();
  });
});

describe("TokenRenewal", () => {
  it("given a refused token, when renewed, then the fresh token is used, and only once until the next sync", async () => {
    const asked: string[] = [];
    const renewal = new TokenRenewal(async (stale) => (asked.push(stale), "fresh"));
    expect(await renewal.renew("stale")).toEqual({ kind: "renewed", token: "fresh" });
    expect(renewal.available).toBe(false);
    expect(await renewal.renew("fresh")).toEqual({ kind: "spent" });
    renewal.synced();
    expect(renewal.available).toBe(true);
    expect(asked).toEqual(["stale"]);
  });

  it("given the auth service cannot be reached, when renewed, then it is unreachable and may be tried again", async () => {
    const renewal = new TokenRenewal(async () => {
      throw new Error("offline");
    });
    expect(await renewal.renew("stale")).toEqual({ kind: "unreachable" });
    expect(renewal.available).toBe(true);
  });

  it("given the session has ended, when renewed, then it says so", async () => {
    expect(await new TokenRenewal(async () => null).renew("stale")).toEqual({ kind: "ended" });
  });
});

describe("statusOf", () => {
  const base: StatusFacts = {
    problem: null,
    online: true,
    connected: true,
    synced: true,
    writesRefused: false,
    pending: false,
    everSaved: false,
    authRetryInProgress: false,
    everConnected: true,
    unsuccessfulReconnects: 0,
  };

  it("given a problem or no network, when shown, then it is offline whatever else holds", () => {
    expect(statusOf({ ...base, problem: { kind: "expired", message: "" } })).toBe("offline");
    expect(statusOf({ ...base, online: false })).toBe("offline");
  });

  it("given a connection, when shown, then the handshake and unacknowledged edits say syncing, else saved or online", () => {
    expect(statusOf({ ...base, synced: false })).toBe("syncing");
    expect(statusOf({ ...base, pending: true })).toBe("syncing");
    expect(statusOf({ ...base, pending: true, writesRefused: true })).toBe("online");
    expect(statusOf({ ...base, everSaved: true })).toBe("saved");
    expect(statusOf(base)).toBe("online");
  });

  it("given no connection, when shown, then a token renewal or a first attempt says connecting, else offline", () => {
    const down = { ...base, connected: false };
    expect(statusOf({ ...down, authRetryInProgress: true, unsuccessfulReconnects: 3 })).toBe("connecting");
    expect(statusOf({ ...down, everConnected: false })).toBe("connecting");
    expect(statusOf({ ...down, everConnected: false, unsuccessfulReconnects: 1 })).toBe("offline");
    expect(statusOf(down)).toBe("offline");
  });
});
