// A board at /b/:id: cards (notes, tasks, images, links) that everyone here moves, resizes and
// edits at once, with each other's pointers, through the same sync and offline copy as text.

import { useCallback, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { Navigate, useParams } from "react-router-dom";
import type { CommentThread, DocMeta } from "../api/types";
import { canComment, canReadHistory, canWrite } from "@palimpsest/contracts/shared";
import { BoardEditor, type BoardComments } from "../board/board-editor";
import type { CardView } from "../board/board-model";
import { CommentsButton } from "../comments/comments-button";
import { ExportMenu } from "../transfer/export-menu";
import { CommentsSidebar, type ThreadSubject } from "../comments/comments-sidebar";
import { useCommentPanel } from "../comments/use-comment-panel";
import { useComments } from "../comments/use-comments";
import { useCollabConnection, useCollabState, usePresence, useSelfPresence } from "../collab/use-collab";
import { AttachmentsButton } from "../files/attachments-button";
import { HistoryButton, LazyHistoryPanel } from "../history/history-button";
import { exactTime } from "../lib/format";
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
  const comments = useComments(opened.id, connection);
  const panel = useCommentPanel();
  const [historyWanted, setHistoryOpen] = useState(false);
  // History is for owners, editors and auditors; a role changed to viewer closes it too.
  const mayReadHistory = live.state !== "lost" && canReadHistory(live.doc.role);
  const historyOpen = historyWanted && mayReadHistory;
  const [notice, setNotice] = useState("");
  const closeHistory = useCallback(() => setHistoryOpen(false), []);
  const onRestored = useCallback(({ at, changed }: { at: string | null; changed: boolean }) => {
    setHistoryOpen(false);
    const when = at ? ` from ${exactTime(at)}` : "";
    setNotice(
      changed
        ? `Restored the board${when}. Everyone sees it now; the board before the restore is still in the history.`
        : `The board already matched the version${when}; nothing changed.`,
    );
  }, []);

  // Open threads per card, for the cards' comment buttons.
  const counts = useMemo(() => {
    const byCard = new Map<string, number>();
    for (const t of comments.threads) if (!t.resolved && t.anchor?.type === "card") byCard.set(t.anchor.cardId, (byCard.get(t.anchor.cardId) ?? 0) + 1);
    return byCard;
  }, [comments.threads]);

  if (live.state === "lost") return <DocumentUnavailable status={live.status} message={live.message} lost />;
  const doc = live.doc;
  // Viewers and commenters look, point and follow along; the server refuses their edits anyway.
  const readOnly = !canWrite(doc.role) || collab.problem !== null;

  const boardComments: BoardComments = {
    counts,
    open: (cardId) => panel.focus(comments.threads.find((t) => !t.resolved && t.anchor?.type === "card" && t.anchor.cardId === cardId)?.id ?? null),
    sidebar: ({ cards, selected }) => {
      if (!panel.open || !user) return null;
      const subjectOf = (thread: CommentThread): ThreadSubject => {
        if (thread.anchor?.type !== "card") return null;
        const cardId = thread.anchor.cardId;
        const card = cards.find((c) => c.id === cardId);
        return card ? { quote: cardQuote(card) } : { detached: "The card this comment was on has been deleted." };
      };
      const request = (): void => {
        if (!canComment(doc.role)) return;
        const card = cards.find((c) => c.id === selected);
        if (!card) {
          panel.explain("Select the card you want to comment on, then press Comment.");
          return;
        }
        panel.startDraft({ anchor: { type: "card", cardId: card.id }, quote: cardQuote(card) });
      };
      return (
        <CommentsSidebar
          doc={doc}
          me={user.id}
          comments={comments}
          subjectOf={subjectOf}
          active={panel.active}
          onActivate={panel.focus}
          draft={panel.draft}
          onDraftDone={panel.draftDone}
          hint={panel.hint}
          onRequest={request}
          requestLabel="the selected card"
          onClose={panel.close}
        />
      );
    },
  };

  return (
    <DocumentFrame
      doc={doc}
      status={collab.status}
      peers={peers}
      problem={collab.problem}
      savedOnDevice={collab.savedLocally}
      onAccessChanged={() => announceAccessChange(connection)}
      actions={
        <>
          <CommentsButton open={panel.open} count={comments.threads.filter((t) => !t.resolved).length} onToggle={panel.toggle} />
          <AttachmentsButton doc={doc} ydoc={connection?.doc ?? null} />
          <ExportMenu docId={doc.id} />
          {mayReadHistory && <HistoryButton open={historyOpen} onToggle={() => setHistoryOpen(!historyOpen)} />}
        </>
      }
    >
      {notice !== "" && (
        <p className="banner banner-info" role="status" data-testid="document-notice">
          {notice}{" "}
          <button type="button" className="link-button" onClick={() => setNotice("")}>
            Dismiss
          </button>
        </p>
      )}
      {historyOpen && connection ? (
        <LazyHistoryPanel doc={doc} connection={connection} extensions={null} onClose={closeHistory} onRestored={onRestored} />
      ) : connection && user ? (
        <BoardEditor
          key={connection.docId}
          connection={connection}
          user={user}
          readOnly={readOnly}
          loaded={collab.loaded}
          localLoaded={collab.localLoaded}
          comments={boardComments}
        />
      ) : (
        <main className="board-viewport" aria-busy="true" />
      )}
    </DocumentFrame>
  );
}

const KIND_NAMES: Record<CardView["kind"], string> = { note: "A note", task: "A task", image: "An image", link: "A link" };

/** What a card thread quotes: the card's words, or what kind of card it is when it has none. */
function cardQuote(card: CardView): string {
  return card.text.trim() || `${KIND_NAMES[card.kind]} without words`;
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
