import { describe, expect, it } from "vitest";
import * as ws from "ws";
import type { Writable } from "node:stream";
import { FrameBoundaries, closeFrame } from "../src/ws-frames.ts";

/** A server frame (unmasked) with a payload of `n` bytes, using each of the three length forms. */
function frame(n: number, opcode = 0x2, fin = true): Buffer {
  const head = n < 126 ? [n] : n < 65536 ? [126, n >> 8, n & 0xff] : [127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, ...head]), Buffer.alloc(n, 7)]);
}

describe("FrameBoundaries", () => {
  const frames = [frame(0), frame(5), frame(125), frame(126), frame(300), frame(65535), frame(65536), frame(200_000), frame(3, 0x9), frame(10, 0x2, false), frame(4, 0x0)];
  const stream = Buffer.concat(frames);
  const ends = new Set<number>();
  frames.reduce((at, f) => (ends.add(at + f.length), at + f.length), 0);

  it("is between frames exactly at the end of each frame, however the stream is split", () => {
    for (let round = 0; round < 20; round++) {
      const fb = new FrameBoundaries();
      const wrong: number[] = [];
      let at = 0;
      while (at < stream.length) {
        const size = 1 + Math.floor(Math.random() * (round % 2 ? 7 : 70_000));
        const chunk = stream.subarray(at, at + size);
        fb.feed(chunk);
        at += chunk.length;
        if (fb.atBoundary !== ends.has(at)) wrong.push(at);
      }
      expect(wrong).toEqual([]);
    }
  });

  it("notices the server's close frame", () => {
    const fb = new FrameBoundaries();
    fb.feed(Buffer.concat([frame(5), frame(3, 0x9)]));
    expect(fb.closeSeen).toBe(false);
    const close = closeFrame(1000, "bye");
    fb.feed(close.subarray(0, 1));
    expect(fb.closeSeen).toBe(false);
    fb.feed(close.subarray(1));
    expect(fb.closeSeen).toBe(true);
    expect(fb.atBoundary).toBe(true);
  });

  it("stops at the end of the frame in progress when asked", () => {
    const fb = new FrameBoundaries();
    const firstTwo = frames[0]!.length + frames[1]!.length;
    expect(fb.feed(stream.subarray(0, firstTwo + 2))).toBe(firstTwo + 2);
    expect(fb.atBoundary).toBe(false);
    const rest = stream.subarray(firstTwo + 2);
    const upTo = fb.feed(rest, true);
    expect(upTo).toBe(frames[2]!.length - 2);
    expect(fb.atBoundary).toBe(true);
    expect(fb.feed(rest.subarray(upTo), true)).toBe(0);
  });

  it("writes close frames a WebSocket client accepts", async () => {
    // ws's own frame parser, as its clients use it (exported, though not in its type definitions).
    const { Receiver } = ws as unknown as { Receiver: new (o: { isServer: boolean }) => Writable };
    const receiver = new Receiver({ isServer: false });
    const closed = new Promise<[number, string]>((resolve) => receiver.on("conclude", (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    receiver.write(closeFrame(4401, "session revoked"));
    expect(await closed).toEqual([4401, "session revoked"]);
  });
});
