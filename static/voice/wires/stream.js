// The binary streaming protocol of /voice-ws (PROTOCOL.md section 3), as normalized events.
//
// Input: PCM16 20 ms frames at 48 kHz (1920 bytes) after an explicit voice_start.
// Output: `audio_response` streaming -> binary PCM16 24 kHz frames -> `audio_response` final.

const SAMPLE_RATE = 48000;

function control(type, data = null, metadata = {}) {
  return { type, data, metadata };
}

export class StreamWire {
  constructor() {
    this.name = "voice-ws";
    this.path = "/voice-ws";
    this.captureRate = SAMPLE_RATE;
    this.frameMs = 20;
    // The server expects continuous audio (its engine may detect turns in it).
    this.continuous = true;
    this.reset();
  }

  reset() {
    this.sessionId = null;
    this.carry = null; // an odd trailing byte of a binary message, completed by the next one
  }

  setup(settings) {
    // voiceId and language are extension fields: the contract has no settings on this socket,
    // and a server that does not know them ignores them.
    return [
      control("voice_start", null, {
        sampleRate: SAMPLE_RATE,
        channels: 1,
        codec: "pcm16",
        voiceId: settings.voiceId,
        language: settings.language,
      }),
    ];
  }

  configure() {
    return null; // no settings message on this socket
  }

  encodeAudio(pcm) {
    return pcm;
  }

  beginTurn() {
    return null; // audio itself starts the turn
  }

  endTurn() {
    return control("voice_end");
  }

  bargeIn() {
    return control("barge_in");
  }

  decode(data) {
    if (data instanceof ArrayBuffer) return [{ type: "audio", pcm: this.samples(data) }];
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return [];
    }
    const meta = message.metadata || {};
    switch (message.type) {
      case "ready":
        // The first `ready` opens the session; later ones only confirm voice_start.
        if (this.sessionId) return [];
        this.sessionId = meta.sessionId;
        return [{ type: "session", sessionId: meta.sessionId }];
      case "vad":
        return [{ type: "vad", active: Boolean(meta.active) }];
      case "user_transcript":
        return [{ type: "user", text: message.data || "", final: Boolean(meta.final) }];
      case "transcription":
        return meta.final
          ? [{ type: "assistant_done", text: message.data || "" }]
          : [{ type: "assistant_delta", text: message.data || "" }];
      case "audio_response":
        if (meta.streaming) return [{ type: "audio_start", sequence: meta.sequence }];
        if (meta.final) return [{ type: "audio_end", sequence: meta.sequence }];
        return [];
      case "barge_in":
        return [{ type: "barge_in", latency: meta.latency }];
      case "navigation":
        return [{ type: "navigation", path: message.data, page: meta.page, title: meta.title }];
      case "setState":
        return [
          { type: "set_state", stateKey: meta.stateKey, setterKey: meta.setterKey, args: message.data },
        ];
      case "error":
        return [{ type: "error", code: meta.error, message: message.data }];
      case "pong":
        return [{ type: "pong", data: message.data }];
      default:
        return []; // extensions this page does not know
    }
  }

  /** PCM16 little-endian samples; a message may end in the middle of a sample. */
  samples(buffer) {
    let bytes = new Uint8Array(buffer);
    if (this.carry !== null) {
      const joined = new Uint8Array(bytes.length + 1);
      joined[0] = this.carry;
      joined.set(bytes, 1);
      bytes = joined;
      this.carry = null;
    }
    if (bytes.length % 2) {
      this.carry = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const out = new Int16Array(bytes.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
    return out;
  }
}
