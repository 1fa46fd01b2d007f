// The board's undo history: this person's own writes (those tagged with `origin`), never
// someone else's.

import { useEffect, useState } from "react";
import * as Y from "yjs";

export interface BoardUndo {
  /** Null until the effect has made it (and after the board changed, until it is made again). */
  undo: Y.UndoManager | null;
  history: { canUndo: boolean; canRedo: boolean };
}

export function useBoardUndo(board: Y.Map<unknown>, origin: unknown): BoardUndo {
  // Made in an effect, not during render: React may render and throw away a render (its memos
  // with it), and the manager listens to the document until destroyed.
  const [undo, setUndo] = useState<Y.UndoManager | null>(null);
  const [history, setHistory] = useState({ canUndo: false, canRedo: false });

  useEffect(() => {
    const manager = new Y.UndoManager(board, { trackedOrigins: new Set([origin]), captureTimeout: 500 });
    const refresh = (): void => setHistory({ canUndo: manager.canUndo(), canRedo: manager.canRedo() });
    manager.on("stack-item-added", refresh);
    manager.on("stack-item-popped", refresh);
    manager.on("stack-cleared", refresh);
    setUndo(manager);
    refresh();
    return () => {
      manager.destroy();
      setUndo((current) => (current === manager ? null : current));
    };
  }, [board, origin]);

  return { undo, history };
}
