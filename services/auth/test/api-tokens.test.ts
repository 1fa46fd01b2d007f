import { describe, expect, it } from "vitest";
import { AppError } from "@palimpsest/contracts";
import { checkApiTokenExpiry, checkApiTokenName } from "../src/api-tokens.ts";

const NOW = Date.parse("2026-06-01T12:00:00.000Z");
const DAY = 86_400_000;

function refusal(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof AppError ? err.code : "not an AppError";
  }
  return undefined;
}

describe("an API token's expiry", () => {
  it("given none, when checked, then the token lives until revoked", () => {
    expect(checkApiTokenExpiry(undefined, NOW)).toBeUndefined();
  });

  it("given a time in the coming year, when checked, then it is kept, normalised to UTC", () => {
    expect(checkApiTokenExpiry("2026-06-02T14:00:00+02:00", NOW)).toBe("2026-06-02T12:00:00.000Z");
    expect(checkApiTokenExpiry(new Date(NOW + 365 * DAY).toISOString(), NOW)).toBe(new Date(NOW + 365 * DAY).toISOString());
  });

  it("given a past or present time, more than a year ahead, or no time at all, when checked, then it is refused", () => {
    for (const at of [new Date(NOW - 1).toISOString(), new Date(NOW).toISOString(), new Date(NOW + 367 * DAY).toISOString(), "soon"]) {
      expect(refusal(() => checkApiTokenExpiry(at, NOW)), at).toBe("VALIDATION_FAILED");
    }
  });
});

describe("an API token's name", () => {
  it("given spaces around it, when checked, then it is trimmed; given only spaces, then it is refused", () => {
    expect(checkApiTokenName("  CI bot ")).toBe("CI bot");
    expect(refusal(() => checkApiTokenName("   "))).toBe("VALIDATION_FAILED");
  });
});
