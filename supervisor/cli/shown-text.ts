// Text a plugin wrote (its output lines, and events that quote it), as a
// terminal may show it: control characters escaped. Raw, a carriage return
// moved the cursor back over the real timestamp and instance, and a line
// showed as another instance's or as a note of Corral's; escape sequences
// cleared lines or the screen.

// C0 controls but tab, DEL, C1 controls, and the line and paragraph separators.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `text` with every control character but tab shown as an escape (\r, \x1b, \u2028). */
export function shownText(text: string): string {
  return text.replace(CONTROL, escaped);
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
