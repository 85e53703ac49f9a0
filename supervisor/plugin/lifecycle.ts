// The lifecycle of one configured plugin as a state machine you can draw:
//
//                                    updated, update-failed
//                                          ┌───────────┐
//                                          ▼           │
//   stopped ──start──▶ starting ──ready──▶ ready ──update──▶ updating
//      ▲                  │  ▲           │ ▲  │    │
//      │                  │  │       pause resume  stop──▶ draining ──stopped──▶ stopped
//      │                  │  │           ▼ │   │
//      │                  │  │          paused  │  (paused: exited ▶ crashed, stop ▶ draining)
//      │              failed │              exited
//      │                  ▼  │                ▼                  
//      └──stop── backoff ◀─retry── crashed ◀──┘
//                                 │
//                             quarantine ──▶ quarantined ──start──▶ starting
//
// `crashed` is where the crash policy decides: back off and retry, or
// quarantine. `updating` is a hot update: the ready instance keeps serving
// while a new one (of the new current release) starts; `updated` hands the
// calls to the new one, `update-failed` leaves them with the old. `paused`
// is an operator's pause: the instance is stopped (SIGSTOP) and its calls
// refused until it is resumed. Any state but stopped can be asked to stop. Transitions not in
// the table are programming errors and throw, so a stray callback cannot move
// a plugin into a state nobody planned for.

export const pluginStates = ["stopped", "starting", "ready", "updating", "paused", "draining", "crashed", "backoff", "quarantined"] as const;
export type PluginState = (typeof pluginStates)[number];

export type LifecycleEvent =
  | { type: "start" }
  | { type: "ready" }
  /** The instance failed to become ready (exit, timeout, refused handshake). */
  | { type: "failed"; reason: string }
  /** The ready instance went away without being asked to. */
  | { type: "exited"; reason: string }
  | { type: "retry" }
  /** A new release is current: a second instance starts beside the serving one. */
  | { type: "update" }
  /** The new instance is ready and serves; the old one drains. */
  | { type: "updated" }
  /** The new instance did not become ready; the old one keeps serving. */
  | { type: "update-failed"; reason: string }
  /** An operator stopped the instance's processes; calls are refused. */
  | { type: "pause"; reason: string }
  | { type: "resume" }
  | { type: "quarantine"; reason: string }
  | { type: "stop" }
  /** The instance is gone after a stop. */
  | { type: "stopped" };

type Table = { [S in PluginState]: Partial<Record<LifecycleEvent["type"], PluginState>> };

const transitions: Table = {
  stopped: { start: "starting", stop: "stopped" },
  starting: { ready: "ready", failed: "crashed", quarantine: "quarantined", stop: "draining" },
  ready: { exited: "crashed", stop: "draining", update: "updating", pause: "paused" },
  paused: { resume: "ready", exited: "crashed", stop: "draining" },
  updating: { updated: "ready", "update-failed": "ready", stop: "draining" },
  draining: { stopped: "stopped", exited: "stopped", failed: "stopped" },
  crashed: { retry: "backoff", quarantine: "quarantined", stop: "stopped" },
  backoff: { start: "starting", stop: "stopped" },
  quarantined: { start: "starting", stop: "stopped" },
};

export class InvalidTransition extends Error {
  constructor(from: PluginState, event: LifecycleEvent["type"]) {
    super(`no transition from ${from} on ${event}`);
    this.name = "InvalidTransition";
  }
}

/** The state after `event` in `state`; throws InvalidTransition when the table has none. */
export function nextState(state: PluginState, event: LifecycleEvent): PluginState {
  const next = transitions[state][event.type];
  if (next === undefined) throw new InvalidTransition(state, event.type);
  return next;
}

export function canTransition(state: PluginState, event: LifecycleEvent["type"]): boolean {
  return transitions[state][event] !== undefined;
}
