// Stable, readable colours and initials for people, derived from their ids so every
// collaborator sees the same colour for the same person.

function hash(text: string): number {
  // FNV-1a: tiny, fast and spreads similar ids far apart.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number): string => {
    const k = (n + h / 30) % 12;
    const value = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/** WCAG relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const channel = (i: number): number => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** WCAG AA for the small bold text of initials and caret names. */
const MIN_CONTRAST_WITH_WHITE = 4.5;

/**
 * A #rrggbb colour (the collaboration caret only accepts that form) dark enough for white
 * text on top (WCAG AA), so names on carets and avatars stay legible: yellows and greens,
 * bright at the same lightness as blues, are darkened until they are.
 */
export function colorForUser(userId: string): string {
  const h = hash(userId);
  const hue = h % 360;
  let lightness = 0.38 + ((h >>> 9) % 8) / 100;
  let color = hslToHex(hue, 0.62, lightness);
  while (1.05 / (luminance(color) + 0.05) < MIN_CONTRAST_WITH_WHITE && lightness > 0.1) {
    lightness -= 0.02;
    color = hslToHex(hue, 0.62, lightness);
  }
  return color;
}

export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = words[0]?.[0] ?? "";
  const last = words.length > 1 ? (words[words.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}
