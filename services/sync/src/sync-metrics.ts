import { Counter, Gauge, Histogram } from "prom-client";
import type { Metrics } from "@palimpsest/platform";

export interface SyncMetrics {
  connections: Gauge;
  openDocuments: Gauge;
  acceptedUpdates: Counter;
  appendedEvents: Counter;
  rejectedUpdates: Counter<"reason">;
  throttled: Counter;
  appendSeconds: Histogram;
  fanoutSeconds: Histogram;
  docLoadSeconds: Histogram;
  snapshotLoads: Counter;
  shedOpens: Counter;
}

// Fine below 10 ms, where an edit's path is judged: a p99 that only reads "<= 5 ms" hides a 2x change.
const LATENCY_BUCKETS = [0.0002, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1];

export function createSyncMetrics(base: Metrics): SyncMetrics {
  const registers = [base.registry];
  return {
    connections: new Gauge({ name: "sync_connections", help: "open /collab connections", registers }),
    openDocuments: new Gauge({ name: "sync_open_documents", help: "documents held in memory", registers }),
    acceptedUpdates: new Counter({ name: "sync_updates_accepted_total", help: "client updates stored in JetStream", registers }),
    appendedEvents: new Counter({ name: "sync_events_appended_total", help: "events appended (one holds one or more merged client updates)", registers }),
    throttled: new Counter({ name: "sync_throttled_total", help: "times a connection was paused for sending faster than its budget", registers }),
    rejectedUpdates: new Counter({ name: "sync_updates_rejected_total", help: "updates refused", labelNames: ["reason"], registers }),
    appendSeconds: new Histogram({ name: "sync_append_seconds", help: "time from receiving an update to JetStream's ack", buckets: LATENCY_BUCKETS, registers }),
    fanoutSeconds: new Histogram({ name: "sync_fanout_seconds", help: "time from storing an update to sending it to local clients", buckets: LATENCY_BUCKETS, registers }),
    shedOpens: new Counter({ name: "sync_opens_shed_total", help: "new /collab connections answered 503 because SYNC_MAX_OPENING were being opened already", registers }),
    snapshotLoads: new Counter({ name: "sync_snapshot_loads_total", help: "documents opened from a snapshot plus the tail after it", registers }),
    docLoadSeconds: new Histogram({ name: "sync_document_load_seconds", help: "time to load a document from the stream", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10], registers }),
  };
}
