// Energy voice-activity detection on the microphone frames' RMS levels.
//
// Used for the end of an utterance when the server does not detect turns itself, and for
// barge-in while the assistant is speaking. The threshold follows a slowly adapting noise floor;
// while the assistant plays, a higher threshold keeps any echo residue from interrupting it.

const FLOOR_RISE = 0.02; // per frame: the floor creeps up slowly in steady noise
const FLOOR_FALL = 0.3; // and drops quickly when the room goes quiet

export class EnergyVad {
  constructor({
    threshold = 0.015, // RMS (0..1) that counts as voice in a quiet room (about -36 dBFS)
    bargeThreshold = 0.04, // while the assistant plays
    floorFactor = 3, // voice must be this many times louder than the noise floor
    startMs = 60, // voiced time before "start"
    bargeStartMs = 120, // a longer proof of speech before cutting the assistant off
    endMs = 700, // silence that ends an utterance
  } = {}) {
    Object.assign(this, { threshold, bargeThreshold, floorFactor, startMs, bargeStartMs, endMs });
    this.floor = 0.002;
    this.speaking = false;
    this.voicedMs = 0;
    this.silentMs = 0;
  }

  /** Feed one frame; returns "start", "end" or null. */
  push(level, frameMs, { assistantSpeaking = false } = {}) {
    const base = assistantSpeaking ? this.bargeThreshold : this.threshold;
    const voiced = level > Math.max(base, this.floor * this.floorFactor);
    if (!voiced) {
      const rate = level < this.floor ? FLOOR_FALL : FLOOR_RISE;
      this.floor += (level - this.floor) * rate;
    }
    if (voiced) {
      this.voicedMs += frameMs;
      this.silentMs = 0;
      const needed = assistantSpeaking ? this.bargeStartMs : this.startMs;
      if (!this.speaking && this.voicedMs >= needed) {
        this.speaking = true;
        return "start";
      }
      return null;
    }
    this.silentMs += frameMs;
    if (!this.speaking) this.voicedMs = 0;
    if (this.speaking && this.silentMs >= this.endMs) {
      this.speaking = false;
      this.voicedMs = 0;
      return "end";
    }
    return null;
  }

  reset() {
    this.speaking = false;
    this.voicedMs = 0;
    this.silentMs = 0;
  }
}
