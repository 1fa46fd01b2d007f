// React bindings for the session store plus the sign-in/up/out actions screens call.

import { useSyncExternalStore } from "react";
import { api } from "../api/api-client";
import { endSession, freshAccessToken, getSessionSnapshot, startSession, subscribeSession } from "./session";
import type { Session, SessionSnapshot } from "./session";

export function useSession(): SessionSnapshot {
  return useSyncExternalStore(subscribeSession, getSessionSnapshot, getSessionSnapshot);
}

export async function signIn(email: string, password: string): Promise<Session> {
  return startSession(await api.auth.login({ email, password }));
}

export async function signUp(name: string, email: string, password: string): Promise<Session> {
  return startSession(await api.auth.register({ name, email, password }));
}

export async function signOut(): Promise<void> {
  try {
    // Rotate first if needed, so we revoke the refresh token that is current, not a stale one.
    await freshAccessToken();
    const session = getSessionSnapshot().session;
    if (session) await api.auth.logout(session.refreshToken);
  } catch {
    // Signing out must always work locally, even offline or with a dead session.
  }
  endSession();
}
