import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyRing } from "../src/key-encryption.ts";

const key = () => randomBytes(32).toString("base64");

describe("KeyRing", () => {
  it("seals so the plaintext does not show, and opens what it sealed", () => {
    const ring = KeyRing.parse([key()]);
    const sealed = ring.seal('{"d":"secret-part"}', "kid-1");
    expect(sealed).not.toContain("secret-part");
    expect(KeyRing.sealedWith(sealed)).toBe(ring.primaryId);
    expect(ring.open(sealed, "kid-1")).toBe('{"d":"secret-part"}');
  });

  it("refuses a value moved to another row, tampered with, or sealed by a key it does not have", () => {
    const ring = KeyRing.parse([key()]);
    const sealed = ring.seal("x", "kid-1");
    expect(() => ring.open(sealed, "kid-2")).toThrow();
    const body = sealed.split(":");
    const tampered = [...body.slice(0, 4), Buffer.from("y".repeat(17)).toString("base64url")].join(":");
    expect(() => ring.open(tampered, "kid-1")).toThrow();
    expect(() => KeyRing.parse([key()]).open(sealed, "kid-1")).toThrow(/not configured/);
  });

  it("seals with the first key and opens with any, so the encryption key can be rotated", () => {
    const [oldKey, newKey] = [key(), key()];
    const sealedOld = KeyRing.parse([oldKey]).seal("x", "k");
    const ring = KeyRing.parse([newKey, oldKey]);
    expect(ring.open(sealedOld, "k")).toBe("x");
    expect(KeyRing.sealedWith(ring.seal("x", "k"))).toBe(KeyRing.parse([newKey]).primaryId);
    expect(KeyRing.sealedWith(sealedOld)).not.toBe(ring.primaryId);
  });

  it("refuses no key, and keys that are not 32 bytes of base64", () => {
    expect(() => KeyRing.parse([])).toThrow(/not set/);
    expect(() => KeyRing.parse([randomBytes(16).toString("base64")])).toThrow(/32 bytes/);
    expect(() => KeyRing.parse(["not base64 at all!"])).toThrow(/32 bytes/);
    expect(KeyRing.sealedWith('{"kty":"OKP"}')).toBeUndefined();
  });
});
