// React bindings for the session store plus the sign-in/up/out actions screens call.

import { useSyncExternalStore } from "react";
import { api } from "../api/api-client";
import { clearLocalCopies, localCopies } from "../offline/local-copies";
import { endSession, freshAccessToken, getSessionSnapshot, SESSION_EXPIRED_MESSAGE, startSession, subscribeSession } from "./session";
import type { Session, SessionSnapshot } from "./session";

export function useSession(): SessionSnapshot {
  return useSyncExternalStore(subscribeSession, getSessionSnapshot, getSessionSnapshot);
}

export async function signIn(email: string, password: string): Promise<Session> {
  return startSession(await api.auth.login({ email, password }));
}

/** Signs in at once, or, where the address must be confirmed first, says so: the emailed link finishes it. */
export async function signUp(name: string, email: string, password: string): Promise<Session | { pending: string }> {
  const answer = await api.auth.register({ name, email, password });
  return "accessToken" in answer ? startSession(answer) : { pending: answer.message };
}

/** Opens an emailed registration link: the new account is signed in. */
export async function confirmSignUp(token: string): Promise<Session> {
  return startSession(await api.auth.confirmRegistration(token));
}

/** Titles of documents on this device with edits the server has not acknowledged yet. */
export function unsyncedDocumentTitles(): string[] {
  const userId = getSessionSnapshot().session?.user.id;
  if (!userId) return [];
  return localCopies(userId)
    .filter((copy) => copy.unsynced)
    .map((copy) => copy.doc.title || "Untitled");
}

/**
 * Signs out here and on the server, and removes this person's documents from this device:
 * the next person at this browser must not find them. The caller warns first if some of them
 * hold edits that never reached the server (see unsyncedDocumentTitles).
 */
export async function signOut(): Promise<void> {
  const userId = getSessionSnapshot().session?.user.id;
  try {
    // Rotate first if needed, so we revoke the refresh token that is current, not a stale one.
    await freshAccessToken();
    const session = getSessionSnapshot().session;
    if (session) await api.auth.logout();
  } catch {
    // Signing out must always work locally, even offline or with a dead session.
  }
  // Signed out first, so open documents close their copies and the deletion is not blocked.
  endSession();
  if (userId) await clearLocalCopies(userId);
}

/**
 * Back to the sign-in screen after the session ended, keeping this device's copies: signing
 * in again as the same person picks up (and sends) any edits made meanwhile.
 */
export function signInAgain(): void {
  endSession(SESSION_EXPIRED_MESSAGE);
}
