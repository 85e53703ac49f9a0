// What the admin API says back, and what it logs of a request: messages that
// quote what a caller sent, cut to a size its HTTP/2 headers take, and never
// in a form grpc-js cannot encode (an encoding that throws out of a call's
// handler ends the supervisor).
import type { status as grpcStatus, ServiceError } from "@grpc/grpc-js";

/** Names as an error quotes them back: at most 10, each cut at 64 characters (a request may carry megabytes of them). */
export function shownNames(names: readonly string[]): string {
  const cut = names.slice(0, 10).map((n) => cutText(n, 64));
  return cut.join(", ") + (names.length > 10 ? ` and ${names.length - 10} more` : "");
}

/**
 * `text` cut to at most `max` UTF-16 units, with "..." after a cut, and never
 * in the middle of a character: grpc-js encodes a status message with
 * encodeURI, which throws on half a surrogate pair, and that throw, out of a
 * call's handler, ended the supervisor (a rollback to a release named with
 * 3000 emoji).
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? "") ? max - 1 : max;
  return `${text.slice(0, end)}...`;
}

/** A request as the log shows it: its fields, long values cut. */
export function shownRequest(request: unknown): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request as Record<string, unknown>)) {
    const text = typeof value === "string" ? value : JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    shown[key] = text !== undefined && text.length > 200 ? `${text.slice(0, 200)}... (${text.length} characters)` : value;
  }
  return shown;
}

/**
 * Error messages are cut to MAX_ERROR_DETAILS characters: one quoting back a
 * request's megabytes (a path, a name) did not fit the caller's HTTP/2
 * header limit, and ended its connection with every call on it.
 */
const MAX_ERROR_DETAILS = 4096;

export function serviceError(code: grpcStatus, details: string): Partial<ServiceError> {
  // Well formed, too: a lone surrogate from anywhere would make grpc-js's encodeURI throw.
  const cut = (details.length > MAX_ERROR_DETAILS ? `${cutText(details, MAX_ERROR_DETAILS)} (${details.length} characters)` : details).toWellFormed();
  return { code, details: cut, message: cut };
}
