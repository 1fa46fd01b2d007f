import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { createLogger } from "@palimpsest/platform";
import { EditLog } from "../src/edit-log.ts";

interface Published {
  subject: string;
  data: Uint8Array;
  msgID: string;
  headers: MsgHdrs;
}

/** A JetStream client that stores nothing and acknowledges every publish with the next sequence. */
function recordingJetStream(): { js: JetStreamClient; published: Published[] } {
  const published: Published[] = [];
  const js = {
    publish: async (subject: string, data: Uint8Array, opts: { msgID: string; headers: MsgHdrs }) => {
      published.push({ subject, data, msgID: opts.msgID, headers: opts.headers });
      return { stream: "EDITS", seq: 41 + published.length, duplicate: false, domain: "" };
    },
  } as unknown as JetStreamClient;
  return { js, published };
}

/** The header block as NATS stores it, so any change of name, value or order shows. */
function stored(h: MsgHdrs): string {
  return new TextDecoder().decode((h as unknown as { encode(): Uint8Array }).encode());
}

describe("the sync service's edit log", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-03-04T05:06:07.089Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("stores an edit with the headers and message id every earlier edit was stored with", async () => {
    // Given an edit log on a replica
    const { js, published } = recordingJetStream();
    const log = new EditLog(js, {} as JetStreamManager, "replica-7", createLogger("sync", "silent", "replica-7"));
    try {
      // When an update is appended
      const update = new Uint8Array([1, 2, 3, 250, 0, 7]);
      const ack = await log.append("doc_A-1", update, "user-1", "conn-9");

      // Then the stored message is byte for byte what it always was
      expect(ack.duplicate).toBe(false);
      expect(published).toHaveLength(1);
      const [p] = published;
      expect(p!.subject).toBe("edits.doc_A-1");
      expect(p!.data).toEqual(update);
      expect(stored(p!.headers)).toBe(
        "NATS/1.0\r\nCollab-Author: user-1\r\nCollab-Client: conn-9\r\nCollab-Time: 2025-03-04T05:06:07.089Z\r\nCollab-Replica: replica-7\r\n\r\n",
      );
      expect(p!.msgID).toBe("l7Vou2bpWxj7hSHzk5Kk0L1lTjltkKsHAzoDgTyu0yY");
    } finally {
      log.close();
    }
  });
});
