// Reading and writing the few y-websocket sync messages the provider handles itself, byte by
// byte, so that watching the server's messages never consumes what y-websocket then applies.

import { messageSync } from "y-websocket";

export const SYNC_STEP1 = 0;
export const SYNC_STEP2 = 1;
export const SYNC_UPDATE = 2;

function readVarUint(bytes: Uint8Array, start: number): [number, number] {
  let value = 0;
  let factor = 1;
  for (let pos = start; pos < bytes.length; pos++) {
    const byte = bytes[pos] ?? 0;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return [value, pos + 1];
    factor *= 128;
    if (factor > Number.MAX_SAFE_INTEGER) break;
  }
  throw new RangeError("truncated message");
}

/** The sync message type and payload at `pos`, without consuming them. */
export function peekSyncMessage(bytes: Uint8Array, pos: number): { type: number; payload: Uint8Array } {
  const [type, afterType] = readVarUint(bytes, pos);
  const [length, start] = readVarUint(bytes, afterType);
  if (start + length > bytes.length) throw new RangeError("truncated message");
  return { type, payload: bytes.subarray(start, start + length) };
}

/** A whole y-websocket message asking the server for what it has beyond `stateVector`. */
export function syncStep1Message(stateVector: Uint8Array): Uint8Array {
  const length: number[] = [];
  let rest = stateVector.length;
  while (rest > 0x7f) {
    length.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  length.push(rest);
  const message = new Uint8Array(2 + length.length + stateVector.length);
  message[0] = messageSync;
  message[1] = SYNC_STEP1;
  message.set(length, 2);
  message.set(stateVector, 2 + length.length);
  return message;
}
