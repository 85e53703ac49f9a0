// The file operations the cgroup drivers use, behind an interface so that
// unit tests can run a driver against a directory that behaves like cgroupfs.
import { constants } from "node:fs";
import { access, mkdir, open, readdir, readFile, rmdir } from "node:fs/promises";

export interface CgroupFs {
  readFile(path: string): Promise<string>;
  /** Writes to an existing control file; never creates one. */
  writeFile(path: string, data: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Creates one directory; fails if it exists. */
  mkdir(path: string): Promise<void>;
  /** Removes a cgroup directory (cgroupfs lets rmdir remove the control files). */
  rmdir(path: string): Promise<void>;
  /** Names of the subdirectories (child cgroups). */
  subdirs(path: string): Promise<string[]>;
  /** Sends a signal to a host pid; false if there is no such process. */
  kill(pid: number, signal: NodeJS.Signals): boolean;
}

export const nodeCgroupFs: CgroupFs = {
  readFile: (path) => readFile(path, "utf8"),
  async writeFile(path, data) {
    // No O_CREAT: a wrong path must fail, not leave a stray file.
    const file = await open(path, constants.O_WRONLY | constants.O_TRUNC);
    try {
      await file.write(data);
    } finally {
      await file.close();
    }
  },
  exists: (path) =>
    access(path).then(
      () => true,
      () => false,
    ),
  mkdir: (path) => mkdir(path, { mode: 0o755 }).then(() => {}),
  rmdir: (path) => rmdir(path),
  subdirs: async (path) => (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name),
  kill(pid, signal) {
    try {
      process.kill(pid, signal);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
      throw err;
    }
  },
};
