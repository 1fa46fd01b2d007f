import type { ReactNode } from "react";
import { api } from "../api/api-client";
import { OneTimeLinkPage } from "./one-time-link-page";

const accept = async (token: string): Promise<string> => {
  const accepted = await api.invitations.accept(token);
  if ("workspaceId" in accepted) return `/?workspace=${encodeURIComponent(accepted.workspaceId)}`;
  return `/${accepted.kind === "board" ? "b" : "d"}/${accepted.docId}`;
};

/**
 * Where an emailed invitation link lands (behind RequireSession, so a visitor signs in or creates
 * an account first and comes back here): accepts it and opens the document, or the dashboard
 * with the workspace it joined.
 */
export function InvitePage(): ReactNode {
  return <OneTimeLinkPage use={accept} working="Opening the invitation…" failed="This invitation cannot be used" back="Go to your documents" />;
}
