/**
 * Follows the frame boundaries of a WebSocket byte stream without decoding payloads, so the
 * relay can pass the server's bytes through untouched and still insert a close frame of its own
 * between two frames (control frames may come between the fragments of a message, too).
 */
export class FrameBoundaries {
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  /** Header bytes of the next frame seen so far, when a header is split across chunks. */
  private header: number[] = [];
  /** Whether a close frame has begun: after it, nothing more may be sent, not even our own close. */
  closeSeen = false;

  get atBoundary(): boolean {
    return this.remaining === 0 && this.header.length === 0;
  }

  /**
   * Follows `chunk`; with `stopAtBoundary`, returns how many of its bytes complete the frame in
   * progress (0 when already between frames), else the whole length.
   */
  feed(chunk: Uint8Array, stopAtBoundary = false): number {
    let i = 0;
    while (i < chunk.length) {
      if (stopAtBoundary && this.atBoundary) return i;
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      this.header.push(chunk[i]!);
      i++;
      const need = headerLength(this.header);
      if (need !== undefined && this.header.length === need) {
        if ((this.header[0]! & 0x0f) === 0x8) this.closeSeen = true;
        this.remaining = payloadLength(this.header);
        this.header = [];
      }
    }
    return i;
  }
}

/** The header's full length once its second byte is known. */
function headerLength(h: number[]): number | undefined {
  if (h.length < 2) return undefined;
  const len7 = h[1]! & 0x7f;
  const masked = (h[1]! & 0x80) !== 0;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
}

function payloadLength(h: number[]): number {
  const len7 = h[1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return (h[2]! << 8) | h[3]!;
  let n = 0;
  for (let i = 2; i < 10; i++) n = n * 256 + h[i]!;
  return n;
}

/** An unmasked close frame, as a server sends it. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, "utf8").subarray(0, 123);
  return Buffer.concat([Buffer.from([0x88, 2 + text.length, code >> 8, code & 0xff]), text]);
}
