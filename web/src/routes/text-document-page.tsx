import { useCallback, useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { Navigate, useParams } from "react-router-dom";
import { EditorContent, useEditor } from "@tiptap/react";
import type { Extensions } from "@tiptap/react";
import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import type { CommentAnchor, DocMeta } from "../api/types";
import { DocFields, canComment, canReadHistory, canWrite } from "@palimpsest/contracts/shared";
import type { CollabConnection, PresenceUser } from "../collab/collab-provider";
import { useCollabConnection, useCollabState, usePresence, useSelfPresence } from "../collab/use-collab";
import { useRestoreNotices } from "../collab/use-restore-notices";
import { EditorToolbar } from "../components/editor-toolbar";
import { KeyboardExit } from "../editor/keyboard-exit";
import { LinkShortcut, RedoKeys, textExtensions } from "../editor/text-extensions";
import { AttachmentsButton } from "../files/attachments-button";
import { FileImage, ImageUpload } from "../files/image-extensions";
import { HistoryButton, LazyHistoryPanel } from "../history/history-button";
import { exactTime } from "../lib/format";
import { documentPath } from "../lib/paths";
import { announceAccessChange, useLiveDocument } from "../share/use-live-document";
import { DocumentFrame, DocumentLoading, DocumentUnavailable } from "./document-frame";
import { useDocument } from "./use-document";
import { anchorOfSelection, quotedText } from "../comments/comment-anchors";
import { CommentHighlights, commentHighlightsKey, type HighlightedThread } from "../comments/comment-highlights";
import { CommentsButton } from "../comments/comments-button";
import { ExportMenu } from "../transfer/export-menu";
import { CommentsSidebar, type ThreadSubject } from "../comments/comments-sidebar";
import { useCommentPanel, type CommentPanel } from "../comments/use-comment-panel";
import { useComments, type Comments } from "../comments/use-comments";
import "../editor/rich-text.css";

/** The Yjs XmlFragment that holds rich text; every client of the platform agrees on it. */

// Most visits never open the history: its code loads on first use.
/** Extensions that bind an editor to the live document; old versions are shown without them. */
const LIVE_ONLY_EXTENSIONS = new Set(["collaboration", "collaborationCaret", "imageUpload", "linkShortcut", "redoKeys", "keyboardExit", "commentHighlights"]);

interface EditorProps {
  doc: DocMeta;
  connection: CollabConnection;
  user: PresenceUser;
  editable: boolean;
  loaded: boolean;
  /** The editor's extensions minus collaboration, so the history renders with the same schema. */
  onExtensions: (extensions: Extensions) => void;
  comments: Comments;
  panel: CommentPanel;
}

function CollaborativeEditor({ doc, connection, user, editable, loaded, onExtensions, comments, panel }: EditorProps): ReactNode {
  // Read at each drop or paste: the role can change while the editor lives.
  const uploadTo = useRef<string | null>(null);
  uploadTo.current = editable ? connection.docId : null;
  const [linkOpen, setLinkOpen] = useState(false);
  // The extension is made once per editor; what it calls is read when it calls.
  const calls = useRef({ activate: (_id: string) => undefined as void, request: () => undefined as void });
  const editor = useEditor(
    {
      extensions: [
        ...textExtensions(),
        LinkShortcut.configure({ onRequest: () => setLinkOpen(true) }),
        Collaboration.configure({ document: connection.doc, field: DocFields.richText }),
        RedoKeys,
        KeyboardExit,
        CollaborationCaret.configure({ provider: connection.provider, user }),
        FileImage,
        ImageUpload.configure({ docId: () => uploadTo.current }),
        CommentHighlights.configure({ onActivate: (id) => calls.current.activate(id), onRequest: () => calls.current.request() }),
      ],
      // The Content-Security-Policy refuses injected <style> elements: the base styles ship in tiptap-base.css.
      injectCSS: false,
      editable,
      editorProps: {
        attributes: { role: "textbox", "aria-multiline": "true", "aria-label": "Document text", "aria-description": "Tab indents a list item; press Escape, then Tab, to move on.", spellcheck: "true" },
      },
    },
    // A new connection means a new Y.Doc, and the editor is bound to its document for life.
    [connection],
  );

  useEffect(() => {
    if (editor.isEditable !== editable) editor.setEditable(editable);
  }, [editor, editable]);

  // The threads' quotes follow the text as people type: drawn again on every change of it.
  const [, setRevision] = useState(0);
  const commentsOpen = panel.open;
  useEffect(() => {
    if (!commentsOpen) return;
    const bump = () => setRevision((n) => n + 1);
    editor.on("update", bump);
    return () => {
      editor.off("update", bump);
    };
  }, [editor, commentsOpen]);
  const subjectOf = (thread: { anchor?: CommentAnchor }): ThreadSubject => {
    if (thread.anchor?.type !== "text") return null;
    const quote = quotedText(editor.state, thread.anchor);
    return quote.trim() === "" ? { detached: "The text this comment was about has been deleted." } : { quote };
  };

  useEffect(() => {
    onExtensions(editor.options.extensions.filter((extension) => !LIVE_ONLY_EXTENSIONS.has(extension.name)));
  }, [editor, onExtensions]);

  const requestComment = (): void => {
    if (!canComment(doc.role)) return;
    const anchor = anchorOfSelection(editor.state);
    if (!anchor) {
      panel.explain("Select the words you want to comment on, then press Comment.");
      return;
    }
    const { from, to } = editor.state.selection;
    panel.startDraft({ anchor, quote: editor.state.doc.textBetween(from, to, " ", " ") });
  };
  calls.current.request = requestComment;
  calls.current.activate = panel.focus;
  const activeThread = panel.active;

  // The open threads' ranges, highlighted in the text.
  useEffect(() => {
    const threads: HighlightedThread[] = comments.threads.flatMap((t) => (!t.resolved && t.anchor?.type === "text" ? [{ id: t.id, anchor: t.anchor }] : []));
    if (editor.isDestroyed) return;
    editor.view.dispatch(editor.state.tr.setMeta(commentHighlightsKey, { threads, active: activeThread }));
  }, [editor, comments.threads, activeThread]);

  const activate = (id: string | null): void => {
    panel.focus(id);
    const thread = comments.threads.find((t) => t.id === id);
    if (!id || thread?.anchor?.type !== "text") return;
    // Show where the thread is: its words, in view.
    editor.view.dom.querySelector(`[data-comment-thread="${CSS.escape(id)}"]`)?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  };

  return (
    <>
      <EditorToolbar editor={editor} disabled={!editable} linkOpen={linkOpen} onLinkOpenChange={setLinkOpen} />
      <div className="editor-with-comments">
        <main className="editor-scroll">
          <div
            className={`editor-surface${editable ? "" : " editor-readonly"}`}
            data-testid="editor"
            data-loaded={loaded ? "true" : "false"}
          >
            <EditorContent editor={editor} />
          </div>
        </main>
        {commentsOpen && user.id && (
          <CommentsSidebar
            doc={doc}
            me={user.id}
            comments={comments}
            subjectOf={subjectOf}
            active={activeThread}
            onActivate={activate}
            draft={panel.draft}
            hint={panel.hint}
            onRequest={requestComment}
            requestLabel="the selection"
            onDraftDone={panel.draftDone}
            onClose={panel.close}
          />
        )}
      </div>
    </>
  );
}

function TextDocument({ doc: opened }: { doc: DocMeta }): ReactNode {
  const user = useSelfPresence();
  const connection = useCollabConnection(opened.id, user);
  const collab = useCollabState(connection);
  const peers = usePresence(connection);
  // My role can change while the page is open (the share dialog, elsewhere): follow it live.
  const live = useLiveDocument(opened, connection, collab);
  const [historyWanted, setHistoryOpen] = useState(false);
  // History is for owners, editors and auditors; a role changed to viewer closes it too.
  const mayReadHistory = live.state !== "lost" && canReadHistory(live.doc.role);
  const historyOpen = historyWanted && mayReadHistory;
  const comments = useComments(opened.id, connection);
  const panel = useCommentPanel();
  const [extensions, setExtensions] = useState<Extensions | null>(null);
  const [notice, setNotice] = useState("");
  const closeHistory = useCallback(() => setHistoryOpen(false), []);
  const onRestored = useCallback(({ at, changed }: { at: string | null; changed: boolean }) => {
    setHistoryOpen(false);
    const when = at ? ` from ${exactTime(at)}` : "";
    setNotice(
      changed
        ? `Restored the version${when}. Everyone sees it now; the text before the restore is still in the history.`
        : `The document already matched the version${when}; nothing changed.`,
    );
  }, []);

  // Someone else restored a version: say who, and where the text from before it is.
  const peersRef = useRef(peers);
  peersRef.current = peers;
  useRestoreNotices(connection, ({ by }) => {
    if (by === user?.id) return;
    const name = peersRef.current.find((p) => p.id === by)?.name ?? "Someone with edit access";
    setNotice(`${name} restored an earlier version, so the text changed. Anything written before the restore, yours included, is kept in the history.`);
  });

  if (live.state === "lost") return <DocumentUnavailable status={live.status} message={live.message} lost />;
  const doc = live.doc;
  const editable = canWrite(doc.role) && collab.problem === null;

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
          <CommentsButton
            open={panel.open}
            count={comments.threads.filter((t) => !t.resolved).length}
            onToggle={panel.toggle}
          />
          <AttachmentsButton doc={doc} ydoc={connection?.doc ?? null} />
          {mayReadHistory && <HistoryButton open={historyOpen} onToggle={() => setHistoryOpen(!historyOpen)} />}
          <ExportMenu docId={doc.id} />
        </>
      }
    >
      {collab.writesRefused && !canWrite(doc.role) && (
        <p className="banner banner-warning" role="alert" data-testid="writes-refused">
          You can only read this document now, so what you typed after your role changed is not saved in it. It stays on this page and on
          this device; copy it if you need it, or ask the owner to make you an editor again.
        </p>
      )}
      {notice !== "" && (
        <p className="banner banner-info" role="status" data-testid="document-notice">
          {notice}{" "}
          {!historyOpen && (
            <>
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  setNotice("");
                  setHistoryOpen(true);
                }}
              >
                Open the history
              </button>{" "}
            </>
          )}
          <button type="button" className="link-button" onClick={() => setNotice("")}>
            Dismiss
          </button>
        </p>
      )}
      {/* Hidden, not unmounted, while the history is open: the live binding and carets carry on. */}
      <div className="editor-pane" hidden={historyOpen}>
        {connection && user ? (
          <CollaborativeEditor
            key={connection.docId}
            doc={doc}
            comments={comments}
            panel={panel}
            connection={connection}
            user={user}
            editable={editable}
            loaded={collab.loaded}
            onExtensions={setExtensions}
          />
        ) : (
          <main className="editor-scroll" aria-busy="true" />
        )}
      </div>
      {historyOpen && connection && extensions && (
        <LazyHistoryPanel doc={doc} connection={connection} extensions={extensions} onClose={closeHistory} onRestored={onRestored} />
      )}
    </DocumentFrame>
  );
}

export default function TextDocumentPage(): ReactNode {
  const { id } = useParams();
  const load = useDocument(id);

  if (load.state === "loading") return <DocumentLoading />;
  if (load.state === "error") return <DocumentUnavailable status={load.status} message={load.message} />;
  // Links are shareable, so a board opened at /d/ still lands on the right screen.
  if (load.doc.kind === "board") return <Navigate to={documentPath(load.doc)} replace />;
  return <TextDocument doc={load.doc} />;
}
