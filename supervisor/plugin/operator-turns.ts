// An operator's stops and starts of a plugin, in turns: each write or
// removal of the plugin's recorded stop (operator-stop.ts) goes with the
// controller's transition it belongs to, so that a stop and a start sent
// together end as the later one says, its record with it. A reload's start
// of a plugin it adds takes its turn too. The waits (a drain, a start's
// readiness) are outside the turn: a stop still cuts a start short.
import { OperatorRecordFailed, type OperatorStop } from "./operator-stop.ts";

/** A plugin as its turns see it. */
export interface TurnTaker {
  name: string;
  controller: { start(): Promise<void>; stop(): Promise<void> };
  operatorStop: OperatorStop;
  /** Being removed from the config: its stop is not recorded (the removal forgets it). */
  removing?: boolean;
}

export class OperatorTurns {
  /** Each plugin's turns under way, the last one's end. */
  readonly #turns = new Map<string, Promise<void>>();

  /**
   * An operator's stop (corralctl stop): recorded first, so that the
   * supervisor's next start leaves the plugin stopped, also if it dies
   * during the stop. The plugin is stopped even if the record fails; then
   * OperatorRecordFailed says so, as its stop will not outlast the
   * supervisor.
   */
  async stop(plugin: TurnTaker, by: string): Promise<void> {
    let failed: Error | undefined;
    const stopping = await this.#turn(plugin.name, async () => {
      if (!plugin.removing) await plugin.operatorStop.record(by).catch((err: Error) => (failed = err));
      return { done: handledLater(plugin.controller.stop()) };
    });
    await stopping.done;
    if (failed) {
      throw new OperatorRecordFailed(`plugin ${plugin.name} is stopped, but its stop could not be recorded (${failed.message}): the supervisor's next start will start it`);
    }
  }

  /**
   * An operator's start (or restart) of a stopped or quarantined plugin:
   * its recorded stop is removed beside the start (a removal and a
   * directory's sync, ~0.3 ms, kept off the start's path). The plugin is
   * started even if the removal fails; then OperatorRecordFailed says so.
   */
  async start(plugin: TurnTaker): Promise<void> {
    let failed: Error | undefined;
    const starting = await this.#turn(plugin.name, async () => {
      const cleared = plugin.operatorStop.clear().catch((err: Error) => (failed = err));
      const done = handledLater(plugin.controller.start()); // the controller is starting from here on
      await cleared;
      return { done };
    });
    await starting.done;
    if (failed) {
      throw new OperatorRecordFailed(`plugin ${plugin.name} is started, but its recorded stop could not be removed (${failed.message}): the supervisor's next start will leave it stopped`);
    }
  }

  /**
   * A reload's addition: started, unless an operator stopped it while it
   * was added (the Stop found it in the set before its start). Whether it
   * was started.
   */
  async startAdded(plugin: TurnTaker): Promise<boolean> {
    const starting = await this.#turn(plugin.name, async () => (plugin.operatorStop.at === undefined ? { done: handledLater(plugin.controller.start()) } : undefined));
    if (!starting) return false;
    await starting.done;
    return true;
  }

  /** A removal's forgetting of the plugin's stop: after a stop's record that began before the removal did. */
  forget(plugin: TurnTaker): Promise<void> {
    return this.#turn(plugin.name, () => plugin.operatorStop.clear());
  }

  /** Runs `step` once the plugin's turns before it are done. */
  #turn<T>(name: string, step: () => Promise<T>): Promise<T> {
    const before = this.#turns.get(name) ?? Promise.resolve();
    const turn = before.then(step);
    const settled = turn.then(
      () => {},
      () => {},
    );
    this.#turns.set(name, settled);
    void settled.then(() => this.#turns.get(name) === settled && this.#turns.delete(name));
    return turn;
  }
}

/**
 * `promise`, whose rejection its caller awaits later (after a turn's file
 * I/O): marked handled now, which an unhandled rejection in between would
 * otherwise end the supervisor for.
 */
function handledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
