import type { ReactNode } from "react";
import { confirmSignUp } from "../auth/use-session";
import { OneTimeLinkPage } from "./one-time-link-page";

const confirm = async (token: string): Promise<string> => {
  await confirmSignUp(token);
  return "/";
};

/** Where the emailed registration link lands: creates the account, signs it in, opens the dashboard. */
export function ConfirmRegistrationPage(): ReactNode {
  return <OneTimeLinkPage use={confirm} working="Creating your account…" failed="This link cannot be used" back="Sign in or register again" />;
}
