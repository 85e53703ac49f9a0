// removeTree: an instance directory goes however deep its plugin nested it.
import { readdirSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import { repoRoot } from "../../bench/lib.ts";
import { removeTree } from "../../supervisor/remove-tree.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeTree(dir);
});

describe("removeTree", () => {
  it("removes a tree nested past PATH_MAX, which Node's rm cannot, following none of its links", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "corral-remove-tree-"));
    dirs.push(root);
    const outside = path.join(root, "outside");
    await mkdir(outside);
    await writeFile(path.join(outside, "keep"), "kept\n");
    const tree = path.join(root, "instance");
    await mkdir(tree);
    // 20 levels, each with a file and a link out, nested from the bottom up by renames: no
    // path could name the bottom once it is deep (the plugin does it with chdir).
    const name = "d".repeat(250);
    for (let depth = 0; depth < 20; depth++) {
      const level = path.join(root, `level-${depth}`);
      await mkdir(level);
      await writeFile(path.join(level, "payload"), "x");
      await symlink(outside, path.join(level, "host"));
    }
    for (let depth = 19; depth > 0; depth--) await rename(path.join(root, `level-${depth}`), path.join(root, `level-${depth - 1}`, name));
    await rename(path.join(root, "level-0"), path.join(tree, name));
    await expect(rm(tree, { recursive: true, force: true })).rejects.toThrow(/ENAMETOOLONG/);

    await removeTree(tree);
    await expect(lstat(tree)).rejects.toThrow(/ENOENT/);
    expect(await readFile(path.join(outside, "keep"), "utf8")).toBe("kept\n");
  });

  it("removes an ordinary tree, and nothing where there is none", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "corral-remove-tree-"));
    dirs.push(root);
    await mkdir(path.join(root, "a/b"), { recursive: true });
    await writeFile(path.join(root, "a/b/f"), "x");
    await removeTree(path.join(root, "a"));
    await expect(lstat(path.join(root, "a"))).rejects.toThrow(/ENOENT/);
    await expect(removeTree(path.join(root, "absent"))).resolves.toBeUndefined();
  });

  it("removes a directory of many entries a few at a time, so that other file operations do not wait behind all of them", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "corral-remove-tree-"));
    dirs.push(root);
    const tree = path.join(root, "instance");
    await mkdir(tree);
    const entries = 20_000;
    for (let i = 0; i < entries; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => writeFile(path.join(tree, `f${i + j}`), "")));
    }
    const removal = removeTree(tree);
    // Under way: the first entries gone.
    while (readdirSync(tree).length === entries) await new Promise((r) => setImmediate(r));
    // A file operation of someone else's, begun now: Node's rm had queued an
    // unlink of every entry ahead of it.
    await stat(root);
    const left = readdirSync(tree).length;
    await removal;
    expect(left).toBeGreaterThan(entries / 2);
    await expect(lstat(tree)).rejects.toThrow(/ENOENT/);
  });
});

describe("removeTrees", () => {
  it("removes thousands of trees a few at a time, within a process's fd limit (all at once ran out of fds)", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "corral-remove-trees-"));
    dirs.push(root);
    const trees = Array.from({ length: 2000 }, (_, i) => path.join(root, `instance-${i}`));
    for (const tree of trees) {
      await mkdir(path.join(tree, "sub"), { recursive: true });
      await writeFile(path.join(tree, "sub", "f"), "x");
    }
    // In a process of its own whose fd limit is 64, as a supervisor's would be nearly used up.
    const script = `import { removeTrees } from ${JSON.stringify(path.join(repoRoot, "supervisor/remove-tree.ts"))};
const failures = await removeTrees(${JSON.stringify(trees)});
console.log(JSON.stringify(failures.map((f) => f.err.message).slice(0, 3)));`;
    const run = await execa("sh", ["-c", 'ulimit -n 64 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { reject: false });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("[]");
    expect(readdirSync(root)).toEqual([]);
  });
});
