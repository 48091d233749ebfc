// Realtime server events (reference/openai-wire.md section 4) as the page's normalized events.
// GA names first; the beta names some models still send are accepted too.

const ASSISTANT_DELTAS = new Set([
  "response.output_audio_transcript.delta",
  "response.output_text.delta",
  "response.audio_transcript.delta", // beta names, still seen from some models
  "response.text.delta",
]);
const ASSISTANT_DONE = new Set([
  "response.output_audio_transcript.done",
  "response.output_text.done",
  "response.audio_transcript.done",
  "response.text.done",
]);

/** Realtime server events -> the page's normalized events. Keeps the user's partial text. */
export class RtcEventMapper {
  constructor() {
    this.partial = new Map(); // item_id -> transcript so far
  }

  map(event) {
    const type = event.type || "";
    if (type === "session.created") return [{ type: "session", sessionId: event.session?.id }];
    if (type === "input_audio_buffer.speech_started") return [{ type: "vad", active: true }];
    if (type === "input_audio_buffer.speech_stopped") return [{ type: "vad", active: false }];
    if (type === "conversation.item.input_audio_transcription.delta") {
      const text = (this.partial.get(event.item_id) || "") + (event.delta || "");
      this.partial.set(event.item_id, text);
      return [{ type: "user", text, final: false }];
    }
    if (type === "conversation.item.input_audio_transcription.completed") {
      this.partial.delete(event.item_id);
      return [{ type: "user", text: event.transcript || "", final: true }];
    }
    if (type === "response.created") return [{ type: "assistant_start" }];
    if (ASSISTANT_DELTAS.has(type)) return [{ type: "assistant_delta", text: event.delta || "" }];
    if (ASSISTANT_DONE.has(type)) {
      return [{ type: "assistant_done", text: event.transcript ?? event.text ?? "" }];
    }
    if (type === "output_audio_buffer.started") return [{ type: "remote_audio", playing: true }];
    if (type === "output_audio_buffer.stopped") return [{ type: "remote_audio", playing: false }];
    if (type === "output_audio_buffer.cleared") {
      return [{ type: "barge_in" }, { type: "remote_audio", playing: false }];
    }
    if (type === "response.function_call_arguments.done") {
      let args = {};
      try {
        args = JSON.parse(event.arguments || "{}");
      } catch {
        args = {};
      }
      return [{ type: "tool_call", name: event.name, callId: event.call_id, args }];
    }
    if (type === "error") {
      const code = event.error?.code;
      // A cancel after the response already finished is expected (push-to-talk barge-in).
      if (code === "response_cancel_not_active") return [];
      return [{ type: "error", code: code || "upstream", message: event.error?.message }];
    }
    return [];
  }
}
