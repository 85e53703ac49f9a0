// What happened to the plugins, as events an operator can watch
// (`corralctl events`) or look back on (`corralctl describe`): lifecycle
// transitions, breaker trips and recoveries, alerts, deploys, reloads. A
// bounded ring of the most recent, and subscribers that get each new one.
export type EventKind = "transition" | "breaker" | "alert" | "deploy" | "config";

export interface PluginEvent {
  at: number;
  plugin: string;
  instance?: string;
  kind: EventKind;
  message: string;
  from?: string;
  to?: string;
}

export class EventLog {
  readonly #capacity: number;
  #events: PluginEvent[] = [];
  readonly #subscribers = new Set<(event: PluginEvent) => void>();

  constructor(capacity = 1000) {
    this.#capacity = capacity;
  }

  emit(event: PluginEvent): void {
    this.#events.push(event);
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity);
    for (const subscriber of this.#subscribers) subscriber(event);
  }

  /** The most recent `n` events (of `plugin`, when given), oldest first. */
  recent(n: number, plugin?: string): PluginEvent[] {
    const matching = plugin ? this.#events.filter((e) => e.plugin === plugin) : this.#events;
    return n > 0 ? matching.slice(-n) : [];
  }

  /** Calls `subscriber` with every new event until the returned function is called. */
  subscribe(subscriber: (event: PluginEvent) => void): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }
}
