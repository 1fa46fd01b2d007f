import { NoRespondersError, PermissionViolationError, RequestError, TimeoutError, createInbox, type Msg, type MsgHdrs, type NatsConnection, type Payload, type Subscription } from "@nats-io/transport-node";

interface Waiting {
  subject: string;
  deadline: number;
  resolve(msg: Msg): void;
  reject(err: unknown): void;
}

/** How often replies that did not come in time are failed: the granularity of a request's timeout. */
const SWEEP_MS = 100;

/**
 * Requests as plain publishes whose replies come back on one subscription of the connection's
 * own, matched by a token in the reply subject. nats.js's `request` costs a reply slot, a timer,
 * a promise chain and an Error object (its stack captured, when it settles its own promise) per
 * message; at thousands of appends and RPCs a second that was the largest single cost of the
 * services' NATS client. Failures read as they do from nats.js: no responders, a time-out, a
 * publish the bus refused, a closed connection.
 */
export class ReplyInbox {
  private readonly prefix: string;
  private readonly waiting = new Map<string, Waiting>();
  private sub: Subscription | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private next = 0;

  constructor(private readonly nc: NatsConnection) {
    // nats.js keeps the connection's inbox prefix (which the bus lets this user subscribe to) in its options; it is not in the type.
    const options = (nc as unknown as { options?: { inboxPrefix?: string } }).options;
    this.prefix = createInbox(options?.inboxPrefix);
    // A publish the server refuses is reported on the connection, by subject, not to a reply
    // subject: fail those requests at once (a refusal is not an unknown outcome to wait out).
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type !== "error" || !(status.error instanceof PermissionViolationError) || status.error.operation !== "publish") continue;
        const refused = status.error;
        this.failWhere((w) => w.subject === refused.subject, () => new RequestError(refused.message, { cause: refused }));
      }
    })().catch(() => undefined);
    void nc.closed().then(() => this.failWhere(() => true, () => new RequestError("connection closed")));
  }

  /** Publishes `data` to `subject` and resolves with the first reply. */
  request(subject: string, data: Payload, opts: { headers?: MsgHdrs; timeout: number }): Promise<Msg> {
    try {
      this.open();
    } catch (err) {
      return Promise.reject(err);
    }
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      // Monotonic: a change of the wall clock neither stretches nor cuts a request's wait.
      this.waiting.set(token, { subject, deadline: performance.now() + opts.timeout, resolve, reject });
      this.sweep();
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, ...(opts.headers ? { headers: opts.headers } : {}) });
      } catch (err) {
        this.waiting.delete(token);
        reject(err);
      }
    });
  }

  private failWhere(match: (w: Waiting) => boolean, error: () => Error): void {
    for (const [token, w] of this.waiting) {
      if (!match(w)) continue;
      this.waiting.delete(token);
      w.reject(error());
    }
  }

  private open(): void {
    if (this.sub && !this.sub.isClosed()) return;
    this.sub = this.nc.subscribe(`${this.prefix}.*`, {
      callback: (err, m) => {
        if (err) {
          // The subscription itself failed (refused): nothing waiting can get its reply here.
          for (const w of this.waiting.values()) w.reject(err);
          this.waiting.clear();
          this.sub = undefined;
          return;
        }
        this.answer(m);
      },
    });
  }

  private answer(m: Msg): void {
    const token = m.subject.slice(this.prefix.length + 1);
    const w = this.waiting.get(token);
    if (!w) return;
    this.waiting.delete(token);
    if (m.data.length === 0 && m.headers?.code === 503) {
      // As nats.js reports it: nobody listens on the subject (for JetStream, the stream has no leader or does not exist).
      w.reject(new RequestError(`no responders: '${w.subject}'`, { cause: new NoRespondersError(w.subject) }));
      return;
    }
    w.resolve(m);
  }

  /** Fails what waited too long; runs only while something waits. */
  private sweep(): void {
    if (this.sweeper || this.waiting.size === 0) return;
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const [token, w] of this.waiting) {
        if (w.deadline > now) continue;
        this.waiting.delete(token);
        w.reject(new TimeoutError());
      }
      if (this.waiting.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, SWEEP_MS);
    this.sweeper.unref();
  }
}

const inboxes = new WeakMap<NatsConnection, ReplyInbox>();

/** The connection's one reply inbox, shared by its appends and its RPCs. */
export function replyInboxOf(nc: NatsConnection): ReplyInbox {
  let inbox = inboxes.get(nc);
  if (!inbox) {
    inbox = new ReplyInbox(nc);
    inboxes.set(nc, inbox);
  }
  return inbox;
}
