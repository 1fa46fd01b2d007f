// A board at /b/:id: cards (notes, tasks, images, links) that everyone here moves, resizes and
// edits at once, with each other's pointers, through the same sync and offline copy as text.

import type { ReactNode } from "react";
import { Navigate, useParams } from "react-router-dom";
import type { DocMeta } from "../api/types";
import { canWrite } from "@palimpsest/contracts/shared";
import { BoardEditor } from "../board/board-editor";
import { useCollabConnection, useCollabState, usePresence, useSelfPresence } from "../collab/use-collab";
import { AttachmentsButton } from "../files/attachments-button";
import { documentPath } from "../lib/paths";
import { announceAccessChange, useLiveDocument } from "../share/use-live-document";
import { DocumentFrame, DocumentLoading, DocumentUnavailable } from "./document-frame";
import { useDocument } from "./use-document";
import "../board/board.css";

function Board({ doc: opened }: { doc: DocMeta }): ReactNode {
  const user = useSelfPresence();
  const connection = useCollabConnection(opened.id, user);
  const collab = useCollabState(connection);
  const peers = usePresence(connection);
  // My role can change while the board is open (the share dialog, elsewhere): follow it live.
  const live = useLiveDocument(opened, connection, collab);

  if (live.state === "lost") return <DocumentUnavailable status={live.status} message={live.message} lost />;
  const doc = live.doc;
  // Viewers and commenters look, point and follow along; the server refuses their edits anyway.
  const readOnly = !canWrite(doc.role) || collab.problem !== null;

  return (
    <DocumentFrame
      doc={doc}
      status={collab.status}
      peers={peers}
      problem={collab.problem}
      savedOnDevice={collab.savedLocally}
      onAccessChanged={() => announceAccessChange(connection)}
      actions={<AttachmentsButton doc={doc} ydoc={connection?.doc ?? null} />}
    >
      {connection && user ? (
        <BoardEditor
          key={connection.docId}
          connection={connection}
          user={user}
          readOnly={readOnly}
          loaded={collab.loaded}
          localLoaded={collab.localLoaded}
        />
      ) : (
        <main className="board-viewport" aria-busy="true" />
      )}
    </DocumentFrame>
  );
}

export default function BoardPage(): ReactNode {
  const { id } = useParams();
  const load = useDocument(id);

  if (load.state === "loading") return <DocumentLoading />;
  if (load.state === "error") return <DocumentUnavailable status={load.status} message={load.message} onRetry={load.retry} />;
  // Links are shareable, so a text document opened at /b/ still lands on the right screen.
  if (load.doc.kind === "text") return <Navigate to={documentPath(load.doc)} replace />;
  return <Board doc={load.doc} />;
}
