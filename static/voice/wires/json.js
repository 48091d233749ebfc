// The JSON voice protocol of /api/voice/ws (PROTOCOL.md section 2), as normalized events.
//
// Input: base64 PCM16 `audio_chunk`s (40 ms at 24 kHz) between start_listening and
// stop_listening. Output: asked for as PCM16 24 kHz and decoded from base64 `audio_chunk`s.

const SAMPLE_RATE = 24000;

function base64FromBytes(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function samplesFromBase64(data) {
  const binary = atob(data);
  const count = binary.length >> 1;
  const out = new Int16Array(count);
  for (let i = 0; i < count; i++) {
    const value = binary.charCodeAt(2 * i) | (binary.charCodeAt(2 * i + 1) << 8);
    out[i] = value > 0x7fff ? value - 0x10000 : value; // little-endian, signed
  }
  return out;
}

export class JsonWire {
  constructor() {
    this.name = "api-voice-ws";
    this.path = "/api/voice/ws";
    this.captureRate = SAMPLE_RATE;
    this.frameMs = 40;
    // Turns are explicit here: audio is sent only between start_listening and stop_listening.
    this.continuous = false;
    this.reset();
  }

  reset() {
    this.sawLastChunk = false;
  }

  setup(settings, context) {
    return [this.configure(settings, context)];
  }

  configure(settings, context) {
    return {
      type: "config",
      settings: {
        language: settings.language,
        voiceId: settings.voiceId,
        audioFormat: "pcm16",
        sampleRate: SAMPLE_RATE,
        outputFormat: "pcm16",
      },
      context,
    };
  }

  encodeAudio(pcm) {
    return JSON.stringify({ type: "audio_chunk", data: base64FromBytes(pcm), timestamp: Date.now() });
  }

  beginTurn() {
    return { type: "start_listening" }; // also the barge-in when the assistant is responding
  }

  endTurn() {
    return { type: "stop_listening" };
  }

  bargeIn() {
    return this.beginTurn();
  }

  decode(data) {
    if (typeof data !== "string") return [];
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return [];
    }
    switch (message.type) {
      case "connected":
        return [{ type: "session", sessionId: message.sessionId }];
      case "transcription_partial":
        return [{ type: "user", text: message.text || "", final: false }];
      case "transcription_final":
        return [{ type: "user", text: message.text || "", final: true }];
      case "response_start":
        this.sawLastChunk = false;
        return [{ type: "assistant_start" }, { type: "audio_start" }];
      case "response_chunk":
        return [{ type: "assistant_delta", text: message.text || "" }];
      case "response_complete":
        return [{ type: "assistant_done", text: message.text || "" }];
      case "audio_chunk": {
        const events = [];
        if (message.data) events.push({ type: "audio", pcm: samplesFromBase64(message.data) });
        if (message.isLast) {
          this.sawLastChunk = true;
          events.push({ type: "audio_end" });
        }
        return events;
      }
      case "audio_complete":
        // Without a last chunk first, the server cut the response short: a barge-in.
        if (this.sawLastChunk) return [];
        return [{ type: "barge_in" }];
      case "setState":
        return [
          { type: "set_state", stateKey: message.stateKey, setterKey: message.setterKey, args: message.args },
        ];
      case "navigation":
        return [{ type: "navigation", path: message.path, page: message.page, title: message.title }];
      case "error":
        return [{ type: "error", code: message.code, message: message.message }];
      case "pong":
        return [{ type: "pong", data: message.payload }];
      default:
        return [];
    }
  }
}
