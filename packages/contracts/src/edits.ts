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
  /** Made through an API token: its id, and its name (percent-encoded, as headers are ASCII). Absent otherwise. */
  viaToken: "Collab-Via-Token",
  viaName: "Collab-Via-Name",
} as const;

/** Stored events carry their type in a header so consumers can route without parsing the body. */
export const EventHeaders = {
  type: "Event-Type",
} as const;

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), carried in NATS headers between
 * processes (RPC requests, stored events and edits) and in the HTTP upgrade the gateway relays to
 * a sync replica. Stored messages carry them only while tracing is on.
 */
export const TraceHeaders = {
  parent: "traceparent",
  state: "tracestate",
} as const;
