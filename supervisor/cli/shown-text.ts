// Text a plugin wrote (its output lines, and events that quote it), as a
// terminal may show it: control characters escaped. Raw, a carriage return
// moved the cursor back over the real timestamp and instance, and a line
// showed as another instance's or as a note of Corral's; escape sequences
// cleared lines or the screen.

// C0 controls but tab, DEL, C1 controls, the line and paragraph separators,
// and the controls of bidirectional text (the marks, embeddings, overrides
// and isolates), which reorder what a terminal shows: "U+202E" turned the
// rest of a line around.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `text` with every control character but tab shown as an escape (\r, \x1b, \u2028). */
export function shownText(text: string): string {
  return text.replace(CONTROL, escaped);
}

/**
 * A line of a plugin's output as `corralctl logs` prints it: when it was
 * read, the instance, the stream, and the text. Every stream is named, its
 * own ([stdout]) too: a plugin that printed "[corral] dropped 7 lines" on
 * stdout read exactly as a note of Corral's.
 */
export function shownLogLine(line: { atUnixMs: number | string; instance: string; stream: string; line: string }): string {
  return `${new Date(Number(line.atUnixMs)).toISOString()} ${line.instance} [${line.stream}] ${shownText(line.line)}`;
}

/** A message of several lines (a list of config problems), as shownText but for its line breaks. */
export function shownLines(text: string): string {
  return text.split("\n").map(shownText).join("\n");
}

function escaped(c: string): string {
  const code = c.charCodeAt(0);
  if (c === "\r") return "\\r";
  if (c === "\n") return "\\n";
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}
