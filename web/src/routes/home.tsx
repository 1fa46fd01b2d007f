import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { useSession } from "../auth/use-session";
import { AuthScreen } from "./auth-screen";
import { Dashboard } from "./dashboard";

/** Where a signed-out visitor was headed (set by RequireSession), if it is a path of this app. */
function returnPath(state: unknown): string | null {
  if (typeof state === "object" && state !== null && "from" in state && typeof state.from === "string") {
    // Same-app paths only: a crafted history state must not bounce anyone to another origin.
    return state.from.startsWith("/") && !state.from.startsWith("//") && state.from !== "/" ? state.from : null;
  }
  return null;
}

/** "/" is the sign-in screen for visitors and the dashboard for signed-in people. */
export function Home(): ReactNode {
  const { session } = useSession();
  const location = useLocation();
  if (!session) return <AuthScreen />;
  const from = returnPath(location.state);
  return from ? <Navigate to={from} replace /> : <Dashboard />;
}
