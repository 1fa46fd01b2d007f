import { describe, expect, it } from "vitest";
import { MessagePacer } from "../src/message-pacer.ts";

/** A source that records whether it is paused, like a WebSocket's. */
function source() {
  const s = { paused: false, isOpen: true, pause: () => void (s.paused = true), resume: () => void (s.paused = false) };
  return s;
}

describe("MessagePacer.unlimit (a connection being drained)", () => {
  it("given a client over its budget with messages held back, when the connection is drained, then every held message is delivered at once, in order, and reading resumes", () => {
    const src = source();
    const delivered: number[] = [];
    const pacer = new MessagePacer<number>(1, 2, src, (m) => delivered.push(m), () => undefined);
    for (let i = 0; i < 10; i++) pacer.push(i);
    expect(delivered).toEqual([0, 1]);
    expect(src.paused).toBe(true);

    pacer.unlimit();
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(src.paused).toBe(false);
  });

  it("given a drained connection whose socket is closing, when more messages arrive before the client's close frame, then they are delivered without pacing", () => {
    const src = source();
    const delivered: number[] = [];
    const pacer = new MessagePacer<number>(1, 1, src, (m) => delivered.push(m), () => undefined);
    pacer.unlimit();
    src.isOpen = false;
    for (let i = 0; i < 50; i++) pacer.push(i);
    expect(delivered).toHaveLength(50);
    expect(src.paused).toBe(false);
  });
});
