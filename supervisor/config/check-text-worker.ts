// The worker thread of check-text.ts: checks the text it was given and
// posts the outcome.
import { parentPort, workerData } from "node:worker_threads";
import { check } from "./check-text.ts";

const { content, file } = workerData as { content: string; file: string };
parentPort!.postMessage(check(content, file));
