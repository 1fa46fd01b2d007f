// What a document page keeps about its comments sidebar: whether it is shown, the thread in
// focus, a new thread being written, and why none could start. The text and the board share it.

import { useCallback, useMemo, useState } from "react";
import type { CommentDraft } from "./comments-sidebar";

export interface CommentPanel {
  open: boolean;
  active: string | null;
  draft: CommentDraft | null;
  hint: string;
  toggle: () => void;
  /** Shows the sidebar with this thread in focus. */
  focus: (threadId: string | null) => void;
  /** Shows the sidebar with a new thread to write on this. */
  startDraft: (draft: CommentDraft) => void;
  /** Shows the sidebar saying why no thread could start. */
  explain: (hint: string) => void;
  draftDone: () => void;
  close: () => void;
}

export function useCommentPanel(): CommentPanel {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState<string | null>(null);
  const [draft, setDraft] = useState<CommentDraft | null>(null);
  const [hint, setHint] = useState("");
  const toggle = useCallback(() => setOpen((o) => !o), []);
  const focus = useCallback((threadId: string | null) => {
    setActive(threadId);
    if (threadId) setOpen(true);
  }, []);
  const startDraft = useCallback((next: CommentDraft) => {
    setHint("");
    setDraft(next);
    setOpen(true);
  }, []);
  const explain = useCallback((why: string) => {
    setHint(why);
    setOpen(true);
  }, []);
  const draftDone = useCallback(() => setDraft(null), []);
  const close = useCallback(() => {
    setDraft(null);
    setActive(null);
    setOpen(false);
  }, []);
  return useMemo(
    () => ({ open, active, draft, hint, toggle, focus, startDraft, explain, draftDone, close }),
    [open, active, draft, hint, toggle, focus, startDraft, explain, draftDone, close],
  );
}
