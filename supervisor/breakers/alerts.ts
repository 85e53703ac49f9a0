// Alerts raised by the warning signs and the goroutine breaker, and the book
// that keeps them until an operator acknowledges them (`corralctl ack`). An
// alert is a fact with its evidence; the book decides what is still open,
// and which repeats of an open one are worth telling (its own clock: what a
// plugin reports carries the plugin's time, which it may forge).

export const alertKinds = ["fd-growth", "goroutine-rise", "heap-growth", "goroutines", "restart-loop", "update-failed", "not-served"] as const;
export type AlertKind = (typeof alertKinds)[number];

export type Alert = {
  readonly kind: AlertKind;
  readonly plugin?: string;
  readonly message: string;
  /** The numbers the detector decided on, so an operator can judge the alert without the samples. */
  readonly evidence: Readonly<Record<string, number>>;
  readonly at: number;
  readonly acknowledged: boolean;
};

/** Where an alert comes from; `plugin` is left out for a supervisor-wide detector. */
export type AlertSource = { plugin?: string };

/** An unacknowledged alert from `source`. */
export function newAlert(source: AlertSource, fields: Omit<Alert, "acknowledged" | "plugin">): Alert {
  const alert = { ...fields, acknowledged: false };
  return source.plugin === undefined ? alert : { ...alert, plugin: source.plugin };
}

export type AlertBookOptions = {
  /** Acknowledged alerts kept for `corralctl` to show; the oldest are dropped beyond this. */
  history: number;
  /**
   * Told of every new alert, and (`repeat`) of a raise of the kind of an
   * open alert, which that alert now shows: each is an event, logged and
   * counted. A detector's repeats are told at most once per
   * REPEATS_TOLD_EVERY_MS for each open alert (the alert counts them all
   * in evidence `raised`); a failed deploy's or a plugin's not being served
   * every time, each being an operation's outcome.
   */
  onRaised?: (alert: Alert, repeat: boolean) => void;
  now?: () => number;
};

/**
 * How often a detector's repeats of an open alert are told. A plugin whose
 * goroutines swung about the threshold raised an alert with every message:
 * each an event and a log line, thousands a second, until the log's buffer
 * took the supervisor's heap.
 */
export const REPEATS_TOLD_EVERY_MS = 60_000;

/** An open alert's key in the book's record of when it was told: its kind and plugin. */
const toldKey = (alert: Pick<Alert, "kind" | "plugin">) => `${alert.kind}\0${alert.plugin ?? ""}`;

/** Kinds that are an operation's outcome, each one told. */
const EVERY_ONE_TOLD: ReadonlySet<AlertKind> = new Set(["update-failed", "not-served"]);

export class AlertBook {
  readonly #history: number;
  #open: Alert[] = [];
  #acknowledged: Alert[] = [];

  readonly #onRaised: (alert: Alert, repeat: boolean) => void;
  readonly #now: () => number;
  /** When each open alert (by kind and plugin) was last told. */
  readonly #told = new Map<string, number>();

  constructor(options: AlertBookOptions = { history: 100 }) {
    this.#history = options.history;
    this.#onRaised = options.onRaised ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /**
   * Keeps the alert, unless one of the same kind for the same plugin is
   * still open: a leak that goes on is one alert to acknowledge, not one per
   * sample. That one then shows the latest message, evidence and time, and
   * how many times it was raised (evidence `raised`). Returns whether the
   * alert is a new one.
   */
  raise(alert: Alert): boolean {
    const i = this.#open.findIndex((a) => a.kind === alert.kind && a.plugin === alert.plugin);
    const key = toldKey(alert);
    const now = this.#now();
    if (i >= 0) {
      const repeated = { ...alert, evidence: { ...alert.evidence, raised: (this.#open[i]!.evidence.raised ?? 1) + 1 }, acknowledged: false };
      this.#open[i] = repeated;
      if (EVERY_ONE_TOLD.has(alert.kind) || now - (this.#told.get(key) ?? -Infinity) >= REPEATS_TOLD_EVERY_MS) {
        this.#told.set(key, now);
        this.#onRaised(repeated, true);
      }
      return false;
    }
    const kept = { ...alert, acknowledged: false };
    this.#open.push(kept);
    this.#told.set(key, now);
    this.#onRaised(kept, false);
    return true;
  }

  isOpen(kind: AlertKind, plugin?: string): boolean {
    return this.#open.some((a) => a.kind === kind && a.plugin === plugin);
  }

  /** Acknowledges the open alerts of `kind`, for `plugin` or, without one, for every plugin. Returns how many. */
  ack(kind: AlertKind, plugin?: string): number {
    return this.#acknowledge((a) => a.kind === kind && (plugin === undefined || a.plugin === plugin));
  }

  /** Acknowledges every open alert of `plugin` or, without one, every open alert. Returns how many. */
  ackAll(plugin?: string): number {
    return this.#acknowledge((a) => plugin === undefined || a.plugin === plugin);
  }

  /** Open alerts, oldest first; of `plugin` only when given. */
  open(plugin?: string): readonly Alert[] {
    return this.#open.filter((a) => plugin === undefined || a.plugin === plugin);
  }

  /** Open alerts, then the acknowledged ones still in the history, each oldest first. */
  list(): readonly Alert[] {
    return [...this.#open, ...this.#acknowledged];
  }

  #acknowledge(matches: (alert: Alert) => boolean): number {
    const done = this.#open.filter(matches);
    this.#open = this.#open.filter((a) => !matches(a));
    for (const a of done) this.#told.delete(toldKey(a));
    this.#acknowledged.push(...done.map((a) => ({ ...a, acknowledged: true })));
    this.#acknowledged = this.#acknowledged.slice(Math.max(0, this.#acknowledged.length - this.#history));
    return done.length;
  }
}
