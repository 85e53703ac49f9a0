// One of the processes test/unit/uid-locks.test.ts races for a stale uid
// lock: for each round number read on stdin, it tries to take the uid's lock
// and says "ROUND 1" if it got it, "ROUND 0" if not.
import { createInterface } from "node:readline";
import { UidLocks } from "../../supervisor/plugin/uid-locks.ts";

const [dir, uid] = process.argv.slice(2);
const locks = new UidLocks(dir!);
for await (const round of createInterface({ input: process.stdin })) {
  process.stdout.write(`${round} ${locks.take(Number(uid)) ? 1 : 0}\n`);
}
