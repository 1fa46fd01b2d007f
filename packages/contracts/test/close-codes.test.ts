import { describe, expect, it } from "vitest";
import { CloseCodes, ErrorCodes, closeCodeOf, closeFrameMayCarry, httpStatusOf, isRefusalClose, type ErrorCode } from "../src/shared.ts";

// RFC 6455 codes the servers send, or ws sends for them: each with the meaning the registry gives it.
const STANDARD = { goingAway: 1001, messageTooBig: 1009, internalError: 1011, serviceRestart: 1012, tryAgainLater: 1013 };
const errorCodes = Object.keys(ErrorCodes) as ErrorCode[];

describe("WebSocket close codes", () => {
  it("given the registry, when its codes are listed, then each is unique", () => {
    const codes = Object.values(CloseCodes);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("given the registry, when a code is not in the application range 4000-4999, then it is one of the standard codes, under its standard name", () => {
    const standard = Object.entries(CloseCodes).filter(([, code]) => code < 4000 || code > 4999);
    expect(Object.fromEntries(standard)).toEqual(STANDARD);
  });

  it("given every error code, when mapped to a close code, then the close code is in the registry", () => {
    const registered = new Set<number>(Object.values(CloseCodes));
    for (const code of errorCodes) expect(registered.has(closeCodeOf(code)), code).toBe(true);
  });

  it("given an error mapped to an application close code, when compared with its HTTP status, then the close code is 4000 + the status", () => {
    for (const code of errorCodes) {
      const close = closeCodeOf(code);
      if (close >= 4000) expect(close, code).toBe(4000 + httpStatusOf(code));
    }
  });

  it("given the failures that ask a client to come back later, when mapped, then they close with the standard codes, not a refusal", () => {
    expect(closeCodeOf("INTERNAL")).toBe(CloseCodes.internalError);
    expect(closeCodeOf("UNAVAILABLE")).toBe(CloseCodes.tryAgainLater);
    expect(closeCodeOf("TIMEOUT")).toBe(CloseCodes.tryAgainLater);
    expect(closeCodeOf("PAYLOAD_TOO_LARGE")).toBe(CloseCodes.messageTooBig);
    for (const code of [CloseCodes.internalError, CloseCodes.serviceRestart, CloseCodes.tryAgainLater, CloseCodes.messageTooBig]) expect(isRefusalClose(code)).toBe(false);
  });

  it("given the closes the web client acts on, when looked up, then they keep the values deployed clients know", () => {
    expect([CloseCodes.unauthenticated, CloseCodes.forbidden, CloseCodes.notFound, CloseCodes.rateLimited]).toEqual([4401, 4403, 4404, 4429]);
    expect(closeCodeOf("SESSION_REVOKED")).toBe(4401);
    expect(CloseCodes.serviceRestart).toBe(1012);
    for (const code of [4401, 4403, 4404, 4429, 4400]) expect(isRefusalClose(code)).toBe(true);
  });

  it("given a code from elsewhere, when asked whether a close frame may carry it, then it answers as RFC 6455 does", () => {
    for (const code of [...Object.values(CloseCodes), 1000, 1014, 3000, 4999]) expect(closeFrameMayCarry(code), String(code)).toBe(true);
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) expect(closeFrameMayCarry(code), String(code)).toBe(false);
  });
});
