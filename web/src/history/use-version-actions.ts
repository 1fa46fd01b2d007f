// What can be done to the selected version (name it, restore it) and where each action stands:
// the name being written, the restore waiting for confirmation, the request under way, its error
// or its outcome.

import { useRef, useState } from "react";
import type { FormEvent, RefObject } from "react";
import { ApiError } from "../api/http";
import { api } from "../api/api-client";

interface VersionActionsOptions {
  docId: string;
  /** Names version `seq` (see useNamedVersions). */
  name: (name: string, seq: number) => Promise<void>;
  /** After a restore; the restored text reaches every open window through sync. */
  onRestored: (restored: { seq: number; at: string | null; changed: boolean }) => void;
}

export interface VersionActions {
  naming: boolean;
  nameDraft: string;
  setNameDraft: (draft: string) => void;
  nameInputRef: RefObject<HTMLInputElement | null>;
  confirmRestore: boolean;
  working: boolean;
  actionError: string;
  notice: string;
  /** Another version was picked: whatever was under way for the previous one is dropped. */
  reset: () => void;
  startNaming: () => void;
  cancelNaming: () => void;
  submitName: (event: FormEvent, seq: number) => Promise<void>;
  startRestore: () => void;
  cancelRestore: () => void;
  /** Restores version `seq`, written at `at`. */
  restore: (seq: number, at: string | null) => Promise<void>;
}

export function useVersionActions({ docId, name, onRestored }: VersionActionsOptions): VersionActions {
  const nameInputRef = useRef<HTMLInputElement>(null);
  const [naming, setNaming] = useState(false);
  const [nameDraft, setNameDraft] = useState("");
  const [confirmRestore, setConfirmRestore] = useState(false);
  const [working, setWorking] = useState(false);
  const [actionError, setActionError] = useState("");
  const [notice, setNotice] = useState("");

  const reset = (): void => {
    setConfirmRestore(false);
    setNaming(false);
    setActionError("");
    setNotice("");
  };

  const startNaming = (): void => {
    setNaming(true);
    setNotice("");
    setActionError("");
    queueMicrotask(() => nameInputRef.current?.focus());
  };

  const submitName = async (event: FormEvent, seq: number): Promise<void> => {
    event.preventDefault();
    const label = nameDraft.trim();
    if (label === "") {
      setActionError("Give the version a name.");
      return;
    }
    setWorking(true);
    setActionError("");
    try {
      await name(label, seq);
      setNaming(false);
      setNameDraft("");
      setNotice(`Named this version “${label}”.`);
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : "Could not name the version.");
    } finally {
      setWorking(false);
    }
  };

  const startRestore = (): void => {
    setConfirmRestore(true);
    setNotice("");
    setActionError("");
  };

  const restore = async (seq: number, at: string | null): Promise<void> => {
    setWorking(true);
    setActionError("");
    try {
      const result = await api.versions.restore(docId, seq);
      onRestored({ seq, at, changed: result.changed });
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : "Could not restore this version.");
      setWorking(false);
    }
  };

  return {
    naming,
    nameDraft,
    setNameDraft,
    nameInputRef,
    confirmRestore,
    working,
    actionError,
    notice,
    reset,
    startNaming,
    cancelNaming: () => setNaming(false),
    submitName,
    startRestore,
    cancelRestore: () => setConfirmRestore(false),
    restore,
  };
}
