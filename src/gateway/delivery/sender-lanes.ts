// The order in which one sender's stanzas are handled. A message with content need not wait for
// the previous one to be stored: its checks run at once, and only its insert into the outbox waits
// for the previous message's insert (the insert fixes the order in which they are sent). Any other
// stanza (a registration, a presence, an iq) waits until everything before it is done, and
// everything after it waits for it, as when one stanza was handled at a time.

/** A message's place among its sender's messages. */
export interface Turn {
  /** Resolves once the sender's previous message has taken its place in the outbox (or ended). */
  wait(): Promise<void>;
  /** This message has taken its place: the next may take its own. Called again, it does nothing. */
  pass(): void;
}

export interface SenderLanes {
  /** Runs a message's handling; `turn` orders its insert among the sender's messages. */
  message(sender: string, task: (turn: Turn) => Promise<void>): Promise<void>;
  /** Runs any other stanza's handling once everything before it from this sender is done. */
  other(sender: string, task: () => Promise<void>): Promise<void>;
  idle(): Promise<void>;
}

interface Lane {
  /** Everything handed to this lane so far has ended. */
  all: Promise<void>;
  /** The last non-message stanza has ended: messages start after it. */
  barrier: Promise<void>;
  /** The last message has taken its place (or ended). */
  placed: Promise<void>;
}

const noop = (): void => undefined;

export function createSenderLanes(): SenderLanes {
  const lanes = new Map<string, Lane>();
  const laneOf = (sender: string): Lane => {
    let lane = lanes.get(sender);
    if (!lane) {
      const ready = Promise.resolve();
      lane = { all: ready, barrier: ready, placed: ready };
      lanes.set(sender, lane);
    }
    return lane;
  };
  const track = (sender: string, lane: Lane, ended: Promise<void>): void => {
    const all = Promise.all([lane.all, ended]).then(noop);
    lane.all = all;
    void all.then(() => {
      if (lane.all === all && lanes.get(sender) === lane) lanes.delete(sender);
    });
  };

  return {
    message(sender, task) {
      const lane = laneOf(sender);
      const previous = lane.placed;
      let pass = noop;
      const placed = new Promise<void>((resolve) => (pass = resolve));
      lane.placed = placed;
      const turn: Turn = { wait: () => previous, pass: () => pass() };
      const running = lane.barrier.then(() => task(turn));
      // A message refused before its insert (or failing) gives its place up when it ends.
      const ended = running.then(noop, noop).then(() => pass());
      track(sender, lane, ended);
      return running;
    },
    other(sender, task) {
      const lane = laneOf(sender);
      const running = lane.all.then(task);
      const ended = running.then(noop, noop);
      lane.barrier = ended;
      lane.placed = ended;
      track(sender, lane, ended);
      return running;
    },
    async idle() {
      while (lanes.size > 0) await Promise.all([...lanes.values()].map((lane) => lane.all));
    },
  };
}
