import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CHECKPOINT_SIGNING_PREFIX,
  checkCheckpoint,
  checkpointSigningInput,
  parseAuditKeySet,
  signCheckpoint,
  type AuditPublicKey,
  type CheckpointStatement,
} from "../src/index.ts";

function keyPair(kid: string, validFrom: string, validUntil?: string) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  const published: AuditPublicKey = { kid, kty: "OKP", alg: "EdDSA", crv: "Ed25519", x: jwk.x as string, validFrom, ...(validUntil ? { validUntil } : {}) };
  return { privateKey, published };
}

const statement: CheckpointStatement = { docId: "doc-1", seq: 7, editHead: "ab".repeat(32), at: "2026-03-01T12:00:00.000Z", kid: "k1" };

describe("signed audit checkpoints", () => {
  it("given a statement, when it is prepared for signing, then the input is the prefix and its canonical JSON", () => {
    expect(checkpointSigningInput(statement).toString("utf8")).toBe(
      `${CHECKPOINT_SIGNING_PREFIX}{"at":"2026-03-01T12:00:00.000Z","docId":"doc-1","editHead":"${"ab".repeat(32)}","kid":"k1","seq":7}`,
    );
  });

  it("given a key valid at the time, when a checkpoint is signed and checked, then it verifies, and the same signature comes again", () => {
    const k = keyPair("k1", "2026-01-01T00:00:00.000Z");
    const line = signCheckpoint(statement, k.privateKey);
    expect(line).toMatchObject({ type: "checkpoint", ...statement });
    expect(checkCheckpoint(line, [k.published])).toEqual({ ok: true, key: k.published });
    expect(signCheckpoint(statement, k.privateKey).sig).toBe(line.sig);
  });

  it("given a signed checkpoint, when any signed field is changed, then the signature no longer verifies", () => {
    const k = keyPair("k1", "2026-01-01T00:00:00.000Z");
    const line = signCheckpoint(statement, k.privateKey);
    for (const changed of [{ seq: 8 }, { editHead: "cd".repeat(32) }, { docId: "doc-2" }, { at: "2026-03-01T12:00:01.000Z" }]) {
      expect(checkCheckpoint({ ...line, ...changed }, [k.published])).toMatchObject({ ok: false, reason: "bad-signature" });
    }
  });

  it("given a signature by another key under the published kid, when checked, then it fails", () => {
    const real = keyPair("k1", "2026-01-01T00:00:00.000Z");
    const forger = keyPair("k1", "2026-01-01T00:00:00.000Z");
    expect(checkCheckpoint(signCheckpoint(statement, forger.privateKey), [real.published])).toMatchObject({ ok: false, reason: "bad-signature" });
  });

  it("given rotated keys, when checkpoints are checked, then each verifies only with the key valid at its time", () => {
    const old = keyPair("k1", "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z");
    const current = keyPair("k2", "2026-02-01T00:00:00.000Z");
    const before = signCheckpoint({ ...statement, at: "2026-01-15T00:00:00.000Z" }, old.privateKey);
    expect(checkCheckpoint(before, [current.published, old.published])).toMatchObject({ ok: true });
    const afterRetired = signCheckpoint({ ...statement, at: "2026-02-15T00:00:00.000Z" }, old.privateKey);
    expect(checkCheckpoint(afterRetired, [current.published, old.published])).toMatchObject({ ok: false, reason: "key-not-valid-then" });
    expect(checkCheckpoint({ ...before, kid: "k9" }, [current.published, old.published])).toMatchObject({ ok: false, reason: "unknown-key" });
  });

  it("given a key set file, when parsed, then malformed keys are dropped and an empty set is refused", () => {
    const k = keyPair("k1", "2026-01-01T00:00:00.000Z");
    expect(parseAuditKeySet({ keys: [k.published, { kid: "x", crv: "P-256", x: "a", validFrom: "2026-01-01T00:00:00Z" }] })).toEqual([k.published]);
    expect(parseAuditKeySet({ keys: [] })).toMatch(/no Ed25519 key/);
    expect(parseAuditKeySet([1, 2])).toMatch(/not a key set/);
  });
});
