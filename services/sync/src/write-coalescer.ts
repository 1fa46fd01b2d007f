import type { Duplex } from "node:stream";

/**
 * Holds a socket's writes until the work in hand is done, so that messages produced together
 * leave in one system call. The stream's consumer hands over every update that arrived in one
 * read before the next tick; without this, a document with 50 connections cost 50 writes per
 * update and as many wake-ups in the gateway and the clients. ws corks around each frame itself;
 * nested corks only flush at the outermost uncork, which runs on the next tick.
 */
export function writeCoalescer(socket: Duplex): () => void {
  let held = false;
  const release = () => {
    held = false;
    socket.uncork();
  };
  return () => {
    if (held || socket.destroyed) return;
    held = true;
    socket.cork();
    process.nextTick(release);
  };
}
