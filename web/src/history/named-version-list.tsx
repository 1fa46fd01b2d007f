// The document's named versions, each a way to jump to its version.

import type { ReactNode } from "react";
import type { NamedVersion } from "../api/types";
import { timeAgo } from "../lib/format";
import type { People } from "./use-history";

interface NamedVersionListProps {
  items: NamedVersion[];
  error: string | null;
  selectedSeq: number;
  people: People;
  onSelect: (seq: number) => void;
}

export function NamedVersionList({ items, error, selectedSeq, people, onSelect }: NamedVersionListProps): ReactNode {
  return (
    <>
      {items.length > 0 && (
        <section aria-label="Named versions">
          <h3 className="history-section-title">Named versions</h3>
          <ul className="history-named" data-testid="named-versions">
            {items.map((n) => (
              <li key={`${n.name}-${n.seq}`}>
                <button type="button" className="history-named-item" aria-pressed={n.seq === selectedSeq} onClick={() => onSelect(n.seq)}>
                  <span className="history-named-name">{n.name}</span>
                  <span className="muted">
                    Version {n.seq} · named by {people.nameOf(n.namedBy)} · {timeAgo(n.namedAt)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {error && <p className="form-alert">{error}</p>}
    </>
  );
}
