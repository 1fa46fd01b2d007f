/**
 * An accepted Yjs update is stored as one message on `edits.<docId>`: the payload is the raw
 * binary update, the headers below say who made it, from which connection and when.
 * Own headers must not start with `Nats-`; `Nats-Msg-Id` carries the dedup id.
 */
export const EditHeaders = {
  author: "Collab-Author",
  client: "Collab-Client",
  time: "Collab-Time",
  replica: "Collab-Replica",
} as const;

/** Stored events carry their type in a header so consumers can route without parsing the body. */
export const EventHeaders = {
  type: "Event-Type",
} as const;
