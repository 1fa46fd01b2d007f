// Another person's pointer on the board, with their name.

import type { ReactNode } from "react";
import type { BoardPeer } from "./board-presence";

export function PeerPointer({ peer, zoom }: { peer: BoardPeer; zoom: number }): ReactNode {
  if (!peer.pointer) return null;
  return (
    <div
      className="board-pointer"
      data-testid="peer-pointer"
      data-name={peer.name}
      style={{ transform: `translate(${peer.pointer.x}px, ${peer.pointer.y}px) scale(${1 / zoom})` }}
      aria-hidden="true"
    >
      <svg viewBox="0 0 16 20" width="16" height="20">
        <path d="M1 1v15.5l4.3-4 2.9 6.5 2.6-1.2-2.9-6.3H14z" fill={peer.color} stroke="#fff" strokeWidth="1.3" strokeLinejoin="round" />
      </svg>
      <span className="board-pointer-name" style={{ backgroundColor: peer.color }}>
        {peer.name}
      </span>
    </div>
  );
}
