import type { ReactNode } from "react";
import type { Peer } from "../collab/use-collab";
import { initialsOf } from "../lib/user-color";

const MAX_SHOWN = 5;

export function PresenceAvatars({ peers }: { peers: Peer[] }): ReactNode {
  const shown = peers.slice(0, MAX_SHOWN);
  const hidden = peers.slice(MAX_SHOWN);
  const names = peers.map((peer) => (peer.isSelf ? `${peer.name} (you)` : peer.name)).join(", ");
  return (
    <div className="presence" role="group" data-testid="presence" aria-label={peers.length > 0 ? `Here now: ${names}` : "Nobody else is here"}>
      {shown.map((peer) => (
        <span
          key={peer.id}
          className={`avatar${peer.isSelf ? " avatar-self" : ""}`}
          style={{ backgroundColor: peer.color }}
          title={peer.isSelf ? `${peer.name} (you)` : peer.name}
          data-user-id={peer.id}
        >
          {initialsOf(peer.name)}
        </span>
      ))}
      {hidden.length > 0 && (
        <span className="avatar avatar-more" title={hidden.map((peer) => peer.name).join(", ")}>
          +{hidden.length}
        </span>
      )}
    </div>
  );
}
