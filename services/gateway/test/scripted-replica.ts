import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { COLLAB_MUX_PROTOCOL, MuxKind, decodeMuxFrame, encodeMuxFrame, type MuxFrame } from "@palimpsest/contracts";

/** A replica that speaks the channel protocol by script: `answer` decides what an open gets. */
export async function scriptedReplica(cleanups: (() => void | Promise<void>)[], answer: (f: MuxFrame & { kind: typeof MuxKind.open }) => "accept" | "busy" | "silent" = () => "accept") {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: (p) => (p.has(COLLAB_MUX_PROTOCOL) ? COLLAB_MUX_PROTOCOL : false) });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const channels: { ws: WebSocket; frames: MuxFrame[] }[] = [];
  wss.on("connection", (ws) => {
    const ch = { ws, frames: [] as MuxFrame[] };
    channels.push(ch);
    ws.send(encodeMuxFrame({ kind: MuxKind.hello, stream: 0, hello: { replicaId: "r1", maxMessageBytes: 1 << 20, window: 1 << 16 } }));
    ws.on("message", (data: Buffer) => {
      const f = decodeMuxFrame(new Uint8Array(data));
      ch.frames.push(f);
      if (f.kind !== MuxKind.open) return;
      const what = answer(f);
      if (what === "accept") ws.send(encodeMuxFrame({ kind: MuxKind.accept, stream: f.stream }));
      if (what === "busy") ws.send(encodeMuxFrame({ kind: MuxKind.busy, stream: f.stream, reason: "busy" }));
    });
  });
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => resolve());
  }));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const send = (ch: number, f: MuxFrame) => channels[ch]!.ws.send(encodeMuxFrame(f));
  return { url, channels, send };
}

