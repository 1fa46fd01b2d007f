/** One spelling per address: accounts, invitations and sharing all compare emails this way. */
export function normaliseEmail(email: string): string {
  return email.trim().normalize("NFKC").toLowerCase();
}
