// Playback of the timeslider: the next frame once this one is on screen, until the current version.

import { useEffect, useState } from "react";
import type { Dispatch, SetStateAction } from "react";
import type { VersionLoad } from "./use-history";

/** How long each frame of the playback stays on screen once it has loaded. */
const FRAME_MS = 140;

interface PlaybackOptions {
  version: VersionLoad;
  seq: number;
  head: number;
  /** How many versions each frame moves on. */
  step: number;
  /** Shows a version; "head" is the current one. */
  show: (next: number | "head") => void;
}

export function usePlayback({ version, seq, head, step, show }: PlaybackOptions): [boolean, Dispatch<SetStateAction<boolean>>] {
  const [playing, setPlaying] = useState(false);

  useEffect(() => {
    if (!playing) return;
    if (version.error) {
      setPlaying(false);
      return;
    }
    if (version.loading || version.version?.seq !== seq) return;
    if (seq >= head) {
      setPlaying(false);
      return;
    }
    const next = Math.min(head, seq + step);
    version.prefetch(next);
    const timer = setTimeout(() => show(next >= head ? "head" : next), FRAME_MS);
    return () => clearTimeout(timer);
  }, [playing, version, seq, head, step, show]);

  return [playing, setPlaying];
}
