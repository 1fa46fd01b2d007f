import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ByteBudget, MESSAGE_COST_BYTES, MessagePacer, type PacerLimits } from "../src/message-pacer.ts";
import { syncConfigSpec } from "../src/config.ts";
import { loadConfig } from "@palimpsest/platform";

/** A source that records whether it is paused, like a WebSocket's. */
function source() {
  const s = { paused: false, isOpen: true, pauses: 0, pause: () => void ((s.paused = true), s.pauses++), resume: () => void (s.paused = false) };
  return s;
}

const roomy: PacerLimits = { bytesPerSecond: 1_000_000, burstBytes: 1_000_000, maxPendingBytes: 1_000_000, maxHeldBytes: 10_000_000 };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ByteBudget", () => {
  it("given a full budget, when bytes are spent, then it allows the burst at once and then refills at its rate", () => {
    let t = 0;
    const b = new ByteBudget(1000, 500, () => t);
    b.spend(499);
    expect(b.available).toBe(true);
    b.spend(1);
    expect(b.available).toBe(false);
    expect(b.waitMs()).toBe(1);
    t = 250;
    expect(b.available).toBe(true);
    t = 10_000;
    b.spend(500);
    expect(b.available).toBe(false);
  });

  it("given a cost larger than the burst, when it is spent, then it passes once and the budget waits off the debt", () => {
    let t = 0;
    const b = new ByteBudget(1000, 100, () => t);
    b.spend(2100);
    expect(b.available).toBe(false);
    expect(b.waitMs()).toBe(2001);
    t = 2001;
    expect(b.available).toBe(true);
  });
});

describe("MessagePacer: the byte budget", () => {
  it("given a client over its budget, when it keeps sending, then its socket is paused and every message is delivered in order at the budgeted rate", () => {
    const src = source();
    const delivered: number[] = [];
    const limits = { ...roomy, bytesPerSecond: 1000, burstBytes: 1000 };
    const pacer = new MessagePacer<number>(limits, src, (m) => void delivered.push(m), { onThrottle: () => undefined, onOverflow: () => undefined }, () => Date.now());
    const size = 500 - MESSAGE_COST_BYTES;
    for (let i = 0; i < 10; i++) pacer.push(i, size);
    // 1000 bytes of burst: two messages of 500 bytes (with their cost).
    expect(delivered).toEqual([0, 1]);
    expect(src.paused).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(delivered).toEqual([0, 1, 2, 3]);
    vi.advanceTimersByTime(3000);
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(src.paused).toBe(false);
  });

  it("given the shipped defaults, when a client sends one message per keystroke at 40,000 keystrokes a second (the pipeline's speed), then it is never slowed", () => {
    const cfg = loadConfig(syncConfigSpec, {});
    const src = source();
    let delivered = 0;
    const limits = { bytesPerSecond: cfg.bytesPerSecond, burstBytes: cfg.burstBytes, maxPendingBytes: cfg.maxPendingBytes, maxHeldBytes: cfg.maxPendingBytes + 2 * cfg.maxMessageBytes };
    const pacer = new MessagePacer<number>(limits, src, () => void delivered++, { onThrottle: () => undefined, onOverflow: () => undefined }, () => Date.now());
    // A keystroke of the automerge-paper trace is a Yjs update of about 25-40 bytes.
    for (let second = 0; second < 10; second++) {
      for (let ms = 0; ms < 1000; ms++) {
        for (let k = 0; k < 40; k++) pacer.push(k, 40);
        vi.advanceTimersByTime(1);
      }
    }
    expect(delivered).toBe(400_000);
    expect(src.pauses).toBe(0);
  });
});

describe("MessagePacer: the bounded queue", () => {
  it("given a client whose updates are not stored yet, when it has the maximum pending, then reading stops until stores complete, and nothing is lost or reordered", async () => {
    const src = source();
    const delivered: number[] = [];
    const stores: (() => void)[] = [];
    const limits = { ...roomy, maxPendingBytes: 3000 };
    const pacer = new MessagePacer<number>(
      limits,
      src,
      (m) => {
        delivered.push(m);
        return new Promise<void>((resolve) => stores.push(resolve));
      },
      { onThrottle: () => undefined, onOverflow: () => undefined },
      () => Date.now(),
    );
    for (let i = 0; i < 10; i++) pacer.push(i, 1000);
    expect(delivered).toEqual([0, 1, 2]);
    expect(pacer.pending).toBe(3000);
    expect(src.paused).toBe(true);
    for (const store of stores.splice(0, 2)) store();
    await vi.advanceTimersByTimeAsync(0);
    expect(delivered).toEqual([0, 1, 2, 3, 4]);
    while (stores.length > 0) {
      for (const store of stores.splice(0)) store();
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(pacer.pending).toBe(0);
    expect(src.paused).toBe(false);
  });

  it("given a peer that keeps sending while its socket is paused, when what it holds passes the hard bound, then it is cut off once and nothing more is delivered", () => {
    const src = source();
    const delivered: number[] = [];
    let overflows = 0;
    const limits = { ...roomy, maxPendingBytes: 1000, maxHeldBytes: 5000 };
    const pacer = new MessagePacer<number>(limits, src, (m) => (delivered.push(m), new Promise<void>(() => undefined)), { onThrottle: () => undefined, onOverflow: () => void overflows++ }, () => Date.now());
    for (let i = 0; i < 20; i++) pacer.push(i, 1000);
    expect(overflows).toBe(1);
    expect(delivered).toEqual([0]);
  });
});

describe("MessagePacer.unlimit (a connection being drained)", () => {
  it("given a client over its budget with messages held back, when the connection is drained, then every held message is delivered at once, in order, and reading resumes", () => {
    const src = source();
    const delivered: number[] = [];
    const pacer = new MessagePacer<number>({ ...roomy, bytesPerSecond: 1024, burstBytes: 1024 }, src, (m) => void delivered.push(m), { onThrottle: () => undefined, onOverflow: () => undefined }, () => Date.now());
    for (let i = 0; i < 10; i++) pacer.push(i, 1024 - MESSAGE_COST_BYTES);
    expect(delivered).toEqual([0]);
    expect(src.paused).toBe(true);

    pacer.unlimit();
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(src.paused).toBe(false);
  });

  it("given a drained connection whose socket is closing, when more messages arrive before the client's close frame, then they are delivered without pacing", () => {
    const src = source();
    const delivered: number[] = [];
    const pacer = new MessagePacer<number>({ ...roomy, bytesPerSecond: 1024, burstBytes: 1024 }, src, (m) => void delivered.push(m), { onThrottle: () => undefined, onOverflow: () => undefined }, () => Date.now());
    pacer.unlimit();
    src.isOpen = false;
    for (let i = 0; i < 50; i++) pacer.push(i, 1000);
    expect(delivered).toHaveLength(50);
    expect(src.paused).toBe(false);
  });
});
