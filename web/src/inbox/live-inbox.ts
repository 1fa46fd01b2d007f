// The live side of the inbox: the gateway's Server-Sent Events stream says when the person's
// notifications changed, so the header's count moves the moment someone mentions them. One tab
// holds the stream (a Web Lock) and tells the others over a BroadcastChannel: a browser allows
// few connections per host over HTTP/1.1, and a stream per tab would use them up.

import { INBOX_CHANGED_EVENT } from "@palimpsest/contracts/shared";
import { withAccessToken } from "../api/api-client";
import { ApiError } from "../api/http";

const CHANNEL = "palimpsest-inbox";
const LOCK = "palimpsest-inbox-stream";
const MAX_BACKOFF_MS = 30_000;

/** Reads one stream until it ends (token expiry, a gateway going away) or `signal` aborts; `onEvent` per inbox event. */
async function readStream(token: string, signal: AbortSignal, onEvent: () => void): Promise<void> {
  const res = await fetch("/api/notifications/live", { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, signal, cache: "no-store" });
  if (!res.ok || !res.body) throw new ApiError(res.status, res.status === 401 ? "UNAUTHENTICATED" : "UNAVAILABLE", "the live inbox is not available");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (block.split("\n").includes(`event: ${INBOX_CHANGED_EVENT}`)) onEvent();
    }
  }
}

/** Keeps a stream open while `signal` lasts: a new token when one ends, a growing pause after failures. */
async function holdStream(signal: AbortSignal, onEvent: () => void): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    const openedAt = Date.now();
    try {
      // A 401 renews the session once, as for any call.
      await withAccessToken((token) => readStream(token, signal, onEvent));
    } catch {
      if (signal.aborted) return;
    }
    // A stream that lasted is a normal end (its token expired): reconnect at once.
    failures = Date.now() - openedAt > 10_000 ? 0 : failures + 1;
    if (failures > 0) {
      const pause = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(failures, 5)) * (0.5 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, pause);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }
}

/** Calls `onChange` whenever the person's inbox changes (and once the stream is open); returns a stop function. */
export function followInbox(onChange: () => void): () => void {
  const stop = new AbortController();
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
  if (channel) channel.onmessage = () => onChange();
  const heard = (): void => {
    onChange();
    channel?.postMessage("changed");
  };
  if (typeof navigator !== "undefined" && navigator.locks) {
    // Held while this tab streams; when it closes, the next tab waiting for the lock takes over.
    navigator.locks.request(LOCK, { signal: stop.signal }, () => holdStream(stop.signal, heard)).catch(() => undefined);
  } else {
    void holdStream(stop.signal, heard);
  }
  return () => {
    stop.abort();
    channel?.close();
  };
}
