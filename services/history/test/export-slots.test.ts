import { describe, expect, it } from "vitest";
import { AppError } from "@palimpsest/contracts";
import { ExportSlots } from "../src/export-slots.ts";

const refused = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof AppError ? err.code : "other";
  }
  return "taken";
};

describe("export slots", () => {
  it("refuses a user past their share, and everyone past the total, until slots are given back", () => {
    const slots = new ExportSlots({ perUser: 2, total: 3 });
    const a1 = slots.acquire("a");
    slots.acquire("a");
    expect(refused(() => slots.acquire("a"))).toBe("RATE_LIMITED");
    const b1 = slots.acquire("b");
    expect(refused(() => slots.acquire("c"))).toBe("RATE_LIMITED");
    a1();
    a1();
    expect(refused(() => slots.acquire("c"))).toBe("taken");
    b1();
    expect(refused(() => slots.acquire("a"))).toBe("taken");
  });

  it("tells a refused caller when to try again", () => {
    const slots = new ExportSlots({ perUser: 1, total: 10 });
    slots.acquire("a");
    try {
      slots.acquire("a");
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).details).toEqual({ retryAfterSeconds: expect.any(Number) });
    }
  });
});
