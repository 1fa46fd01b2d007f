// A comment box that offers the document's members after an "@": arrows choose, Enter or Tab (or
// a click) puts "@Name " in the text, and the comment is sent with the ids of those still named.

import { useEffect, useId, useRef, useState } from "react";
import type { KeyboardEvent, ReactNode } from "react";
import { api } from "../api/api-client";
import type { Member } from "../api/types";

export interface MentionValue {
  text: string;
  /** Members chosen from the list: their ids go with the comment while "@Name" is in the text. */
  chosen: ReadonlyMap<string, string>;
}

/** The ids of the chosen members whose "@Name" is still in the text. */
export function mentionsIn(value: MentionValue): string[] {
  return [...value.chosen].filter(([, name]) => value.text.includes(`@${name}`)).map(([id]) => id);
}

const membersCache = new Map<string, Promise<Member[]>>();
function membersOf(docId: string): Promise<Member[]> {
  let found = membersCache.get(docId);
  if (!found) {
    found = api.members.list(docId).then(
      // Those it is shared with and those who reach it through its workspace, each once.
      (m) => {
        const shared = new Set(m.members.map((member) => member.userId));
        return [...m.members, ...(m.workspace?.members ?? []).filter((member) => !shared.has(member.userId))];
      },
      () => {
        // Not remembered: the next box asks again.
        membersCache.delete(docId);
        return [];
      },
    );
    membersCache.set(docId, found);
    // Asked again after a while: people join and leave.
    setTimeout(() => membersCache.delete(docId), 60_000);
  }
  return found;
}

/** The "@word" being typed right before the caret, if any. */
function queryAt(text: string, caret: number): { start: number; query: string } | null {
  const match = /(^|\s)@([^\s@]{0,30})$/.exec(text.slice(0, caret));
  return match ? { start: caret - match[2]!.length - 1, query: match[2]!.toLowerCase() } : null;
}

interface MentionInputProps {
  docId: string;
  me: string;
  id: string;
  value: MentionValue;
  onChange: (value: MentionValue) => void;
  placeholder: string;
  rows: number;
  /** Ctrl+Enter (⌘+Enter): send. */
  onSubmit: () => void;
  onCancel?: () => void;
  autoFocus?: boolean;
}

export function MentionInput({ docId, me, id, value, onChange, placeholder, rows, onSubmit, onCancel, autoFocus }: MentionInputProps): ReactNode {
  const box = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const [members, setMembers] = useState<Member[]>([]);
  const [open, setOpen] = useState<{ start: number; query: string } | null>(null);
  const [index, setIndex] = useState(0);
  useEffect(() => {
    let live = true;
    void membersOf(docId).then((m) => live && setMembers(m.filter((x) => x.userId !== me)));
    return () => {
      live = false;
    };
  }, [docId, me]);
  useEffect(() => {
    if (autoFocus) box.current?.focus();
  }, [autoFocus]);

  const matches = open ? members.filter((m) => (m.name || m.email).toLowerCase().includes(open.query)).slice(0, 6) : [];
  const showList = open !== null && matches.length > 0;

  const choose = (member: Member): void => {
    if (!open || !box.current) return;
    const name = member.name || member.email;
    const caret = box.current.selectionStart;
    const text = `${value.text.slice(0, open.start)}@${name} ${value.text.slice(caret)}`;
    onChange({ text, chosen: new Map(value.chosen).set(member.userId, name) });
    setOpen(null);
    const at = open.start + name.length + 2;
    requestAnimationFrame(() => box.current?.setSelectionRange(at, at));
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (showList) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        setIndex((i) => (i + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        choose(matches[Math.min(index, matches.length - 1)]!);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setOpen(null);
        return;
      }
    }
    if (e.key === "Escape") onCancel?.();
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      onSubmit();
    }
  };

  return (
    <div className="mention-input">
      <textarea
        id={id}
        ref={box}
        className="comment-input"
        rows={rows}
        value={value.text}
        placeholder={placeholder}
        aria-autocomplete="list"
        aria-controls={listId}
        aria-activedescendant={showList ? `${listId}-${Math.min(index, matches.length - 1)}` : undefined}
        onChange={(e) => {
          onChange({ ...value, text: e.target.value });
          setOpen(queryAt(e.target.value, e.target.selectionStart));
          setIndex(0);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setOpen(null)}
      />
      <ul id={listId} className="mention-list" role="listbox" aria-label="Members to mention" hidden={!showList}>
        {matches.map((m, i) => (
          <li
            key={m.userId}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === index}
            className={i === index ? "mention-option mention-option-active" : "mention-option"}
            // Chosen before the box loses focus.
            onMouseDown={(e) => {
              e.preventDefault();
              choose(m);
            }}
          >
            <span className="mention-name">{m.name || m.email}</span> <span className="muted">{m.email}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
