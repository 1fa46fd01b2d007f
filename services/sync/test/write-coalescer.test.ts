import { Duplex } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { writeCoalescer } from "../src/write-coalescer.ts";

/** A socket stand-in that records each write call the stream makes, as the kernel would see them. */
function recordingSocket(): { socket: Duplex; calls: string[][] } {
  const calls: string[][] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => Buffer.from(c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { socket, calls };
}

/** What ws does for each frame: its own cork around a header and a payload write. */
function sendFrame(socket: Duplex, text: string): void {
  socket.cork();
  socket.write(Buffer.from(`[${text}`));
  socket.write(Buffer.from(`${text}]`));
  socket.uncork();
}

describe("write coalescing", () => {
  it("sends the frames of one tick in one write, after the tick", async () => {
    const { socket, calls } = recordingSocket();
    const hold = writeCoalescer(socket);
    for (const m of ["a", "b", "c"]) {
      hold();
      sendFrame(socket, m);
    }
    expect(calls).toEqual([]);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]).toEqual(["[a", "a]", "[b", "b]", "[c", "c]"]);
  });

  it("does not hold frames of a later tick back", async () => {
    const { socket, calls } = recordingSocket();
    const hold = writeCoalescer(socket);
    hold();
    sendFrame(socket, "a");
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    hold();
    sendFrame(socket, "b");
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]).toEqual(["[b", "b]"]);
    expect(socket.writableCorked).toBe(0);
  });

  it("leaves a destroyed socket alone", () => {
    const { socket } = recordingSocket();
    socket.destroy();
    writeCoalescer(socket)();
    expect(socket.writableCorked).toBe(0);
  });
});
