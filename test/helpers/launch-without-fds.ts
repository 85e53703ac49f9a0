// Run as a script (under a low RLIMIT_NOFILE): fills this process's fds,
// then launches a sandbox, whose spawn then fails; prints how it ended.
import { closeSync, openSync } from "node:fs";
import path from "node:path";
import { launchSandbox } from "../../sandbox/launcher.ts";
import type { SandboxSpec } from "../../sandbox/spec.ts";

const fds: number[] = [];
try {
  for (;;) fds.push(openSync("/dev/null", "r"));
} catch {
  // EMFILE: full
}
for (const fd of fds.splice(0, 2)) closeSync(fd); // too few for the pipes of a spawn
const launcherPath = path.join(import.meta.dirname, "../../build/bin/corral-sandbox");
const exit = await launchSandbox(Promise.resolve({} as SandboxSpec), { launcherPath }).exited;
for (const fd of fds) closeSync(fd);
console.log(JSON.stringify(exit));
