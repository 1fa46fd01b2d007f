// Which card this person has selected: shown to the others, and let go when the card is deleted.

import { useEffect, useState } from "react";
import type { Dispatch, RefObject, SetStateAction } from "react";
import type { CollabConnection } from "../collab/collab-provider";
import type { CardView } from "./board-model";
import type { PresencePublisher } from "./board-presence";

/**
 * Call after usePresencePublisher: on a new connection, its effect must make the new publisher
 * before this one publishes the selection to it.
 */
export function useBoardSelection(
  cards: CardView[],
  connection: CollabConnection,
  publisher: RefObject<PresencePublisher | null>,
): [string | null, Dispatch<SetStateAction<string | null>>] {
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    publisher.current?.select(selected);
  }, [selected, connection, publisher]);

  // Deleted under us (by someone else, or by undo): let go of it.
  useEffect(() => {
    if (selected && !cards.some((card) => card.id === selected)) setSelected(null);
  }, [cards, selected]);

  return [selected, setSelected];
}
