// This device's copy of a document (IndexedDB through y-indexeddb): read before connecting, and
// watched so the UI can tell whether every edit made here has reached it.

import type * as Y from "yjs";
import { IndexeddbPersistence } from "y-indexeddb";

/** A device copy that takes longer than this to read must not hold up the connection. */
const LOCAL_LOAD_TIMEOUT_MS = 3_000;
const LOCAL_CHECK_DELAY_MS = 30;

export class DeviceCopy {
  /** The origin of updates read from the copy (null when nothing is kept on this device). */
  readonly persistence: IndexeddbPersistence | null;
  /** Updates since the device copy was last known to hold everything; see checkWritten. */
  private writes = 0;
  private confirmed = 0;
  private checkTimer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;

  /** `changed` is called when `savedLocally` may have become true. */
  constructor(database: string | null, doc: Y.Doc, private readonly changed: () => void) {
    this.persistence = database ? new IndexeddbPersistence(database, doc) : null;
  }

  /** Every update so far is in the copy (or nothing is kept). */
  get savedLocally(): boolean {
    return this.confirmed >= this.writes;
  }

  /**
   * Reads the copy into the document before connecting, so the first sync message only asks
   * for what is new; the document is usable meanwhile, since editing never waits for the network.
   */
  async load(): Promise<void> {
    if (!this.persistence) return;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, LOCAL_LOAD_TIMEOUT_MS));
    await Promise.race([this.persistence.whenSynced.then(() => undefined), timeout]);
  }

  /** An update not read from the copy: y-indexeddb is writing it. */
  noteWrite(): void {
    this.writes++;
    this.scheduleCheck();
  }

  /** Stops watching; the copy itself closes with its Y.Doc. */
  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.checkTimer);
  }

  private scheduleCheck(): void {
    if (this.checkTimer !== undefined || this.destroyed) return;
    this.checkTimer = setTimeout(() => {
      this.checkTimer = undefined;
      this.checkWritten();
    }, LOCAL_CHECK_DELAY_MS);
  }

  /**
   * y-indexeddb writes each update in its own transaction without telling when it is done.
   * A transaction on the same store started afterwards completes only after those earlier
   * writes did, so its completion says the device copy holds everything written so far.
   */
  private checkWritten(): void {
    const db = this.persistence?.db;
    if (!db || this.destroyed) {
      // Not open yet: its first load writes the whole document anyway; look again shortly.
      if (!this.destroyed) this.scheduleCheck();
      return;
    }
    const writes = this.writes;
    let transaction: IDBTransaction;
    try {
      transaction = db.transaction(["updates"], "readonly");
    } catch {
      return;
    }
    transaction.oncomplete = () => {
      if (this.destroyed) return;
      this.confirmed = Math.max(this.confirmed, writes);
      if (this.writes !== writes) this.scheduleCheck();
      this.changed();
    };
  }
}
