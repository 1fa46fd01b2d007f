// A first look at boards: live, read-only listing of the cards stored in the Y.Map "board".
// The real board UI (drag, edit, images) replaces the list later; the connection and the
// frame around it stay.

import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import { Navigate, useParams } from "react-router-dom";
import * as Y from "yjs";
import type { DocSummary } from "../api/types";
import type { CollabConnection } from "../collab/collab-provider";
import { useCollabConnection, useCollabState, usePresence, useSelfPresence } from "../collab/use-collab";
import { documentPath } from "../lib/paths";
import { DocumentFrame, DocumentLoading, DocumentUnavailable } from "./document-frame";
import { useDocument } from "./use-document";

/** The Y.Map that holds a board; shared with every other client of the platform. */
const BOARD_FIELD = "board";

interface CardSummary {
  key: string;
  kind: string;
  text: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function plain(value: unknown): unknown {
  return value instanceof Y.AbstractType ? value.toJSON() : value;
}

function firstString(record: Record<string, unknown>, keys: string[]): string | null {
  for (const key of keys) {
    const value = plain(record[key]);
    if (typeof value === "string" && value.trim() !== "") return value;
  }
  return null;
}

// The card schema belongs to the coming board issue, so read defensively: any entry is
// shown, with the most likely text field and kind.
function summarize(key: string, raw: unknown): CardSummary {
  const value = plain(raw);
  if (isRecord(value)) {
    return {
      key,
      kind: firstString(value, ["kind", "type"]) ?? "card",
      text: firstString(value, ["text", "title", "content", "body", "caption", "name", "url", "src"]) ?? JSON.stringify(value),
    };
  }
  return { key, kind: "value", text: typeof value === "string" ? value : JSON.stringify(value) };
}

function readCards(board: Y.Map<unknown>): CardSummary[] {
  const entries = [...board.entries()];
  // Boards that group cards under a "cards" key are flattened so the cards themselves show.
  const cards = board.get("cards");
  const source = cards instanceof Y.Map ? [...(cards as Y.Map<unknown>).entries()] : entries;
  return source.map(([key, value]) => summarize(key, value)).sort((a, b) => a.key.localeCompare(b.key));
}

function BoardCards({ connection, loaded }: { connection: CollabConnection; loaded: boolean }): ReactNode {
  const [cards, setCards] = useState<CardSummary[]>([]);

  useEffect(() => {
    const board = connection.doc.getMap<unknown>(BOARD_FIELD);
    const refresh = (): void => setCards(readCards(board));
    refresh();
    board.observeDeep(refresh);
    return () => board.unobserveDeep(refresh);
  }, [connection]);

  return (
    <main className="board-scroll">
      <div className="board-placeholder" data-testid="board" data-loaded={loaded ? "true" : "false"}>
        <p className="muted board-note">The board editor is on its way. Cards on this board update live below.</p>
        {cards.length === 0 ? (
          <p className="empty">{loaded ? "This board has no cards yet." : "Loading cards…"}</p>
        ) : (
          <ul className="card-grid">
            {cards.map((card) => (
              <li key={card.key} className="card" data-card-id={card.key}>
                <span className="badge">{card.kind}</span>
                <p className="card-text">{card.text}</p>
              </li>
            ))}
          </ul>
        )}
      </div>
    </main>
  );
}

function Board({ doc }: { doc: DocSummary }): ReactNode {
  const user = useSelfPresence();
  const connection = useCollabConnection(doc.id, user);
  const collab = useCollabState(connection);
  const peers = usePresence(connection);

  return (
    <DocumentFrame doc={doc} status={collab.status} peers={peers} problem={collab.problem}>
      {connection ? <BoardCards connection={connection} loaded={collab.loaded} /> : <main className="board-scroll" aria-busy="true" />}
    </DocumentFrame>
  );
}

export default function BoardPage(): ReactNode {
  const { id } = useParams();
  const load = useDocument(id);

  if (load.state === "loading") return <DocumentLoading />;
  if (load.state === "error") return <DocumentUnavailable status={load.status} message={load.message} />;
  if (load.doc.kind === "text") return <Navigate to={documentPath(load.doc)} replace />;
  return <Board doc={load.doc} />;
}
