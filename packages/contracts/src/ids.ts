/**
 * Every id in the system (users, documents, files, sessions) matches this: ids become subject
 * tokens, so they must not contain `.`, `*`, `>` or whitespace. A regular expression's source, so
 * JSON schemas (`pattern`) and code test the same rule. Browser-safe: the web app checks ids
 * (a board card's file, an image's `src`) with the same rule.
 */
export const SAFE_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$";
const ID_PATTERN = new RegExp(SAFE_ID_PATTERN);

export function isSubjectSafeId(id: string): boolean {
  return ID_PATTERN.test(id);
}
