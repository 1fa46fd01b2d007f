/**
 * What a piece of an audit page costs in the reply, and where to cut a line that does not fit:
 * the page's text travels as a JSON string, so the budget counts it as JSON will encode it.
 */

/** Reply bytes a piece of the chunk costs: UTF-8, plus one for each character JSON escapes (lines are JSON already, so only quotes, backslashes and the newline). */
export function replyBytes(s: string): number {
  let escapes = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) escapes++;
  for (let i = s.indexOf("\\"); i !== -1; i = s.indexOf("\\", i + 1)) escapes++;
  for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) escapes++;
  return Buffer.byteLength(s) + escapes;
}

/** The longest prefix of `s` costing at most `room`, never splitting a surrogate pair. */
export function prefixWithin(s: string, room: number): string {
  let n = Math.min(s.length, room);
  for (let cost = replyBytes(s.slice(0, n)); cost > room && n > 1; cost = replyBytes(s.slice(0, n))) n = Math.max(1, Math.floor((n * room) / cost) - 1);
  const code = s.charCodeAt(n - 1);
  if (n > 1 && n < s.length && code >= 0xd800 && code <= 0xdbff) n--;
  return s.slice(0, n);
}
