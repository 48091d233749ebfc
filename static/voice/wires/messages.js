// Server codes in plain words (close codes: PROTOCOL.md section 6; error codes: sections 2, 3).

const CLOSE_REASONS = {
  1000: "The conversation was ended by the server.",
  4401: "Your sign-in was not accepted.",
  4403: "Your account is not allowed to use the voice service.",
  4413: "A message was too large for the server.",
  4429: "You are being rate limited: too many connections or messages. Waiting before retrying.",
  4500: "The server ran into a problem.",
  4502: "The AI service is unavailable right now.",
  4503: "The server is busy right now.",
};

const ERROR_REASONS = {
  rate_limited: "You are being rate limited. Slow down for a moment.",
  busy: "Still working on what you just said. One moment.",
  upstream: "The AI service failed to answer. Please try again.",
  bad_audio: "The server could not understand the audio from this microphone.",
  bad_frame: "Some audio frames were malformed and dropped.",
  not_streaming: "The server was not ready for audio.",
  too_large: "A message was too large for the server.",
  bad_message: "The server could not read a message from this page.",
  unknown_type: "The server did not understand a message from this page.",
};

/** Close codes after which reconnecting cannot help. */
export const FINAL_CLOSE_CODES = new Set([4403]);

export function describeClose(code) {
  return CLOSE_REASONS[code] || "The connection to the voice server was lost.";
}

export function describeError(code, message) {
  return ERROR_REASONS[code] || message || "Something went wrong.";
}

/** Errors worth an alert; the rest are shown quietly in the status line. */
export function isSerious(code) {
  return code !== "busy" && code !== "bad_frame";
}
