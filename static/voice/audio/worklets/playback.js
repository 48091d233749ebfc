// Gapless playback of streamed PCM16: a ring buffer read by the audio rendering thread.
//
// The page posts {type: "audio", pcm: Int16Array buffer}, {type: "end"} after the last chunk of
// a response, and {type: "clear"} on barge-in. Output starts once `jitterMs` of audio is
// buffered (or the response ended), so small gaps in delivery do not become audible clicks;
// an underrun mid-response waits for the jitter buffer again.

const REPORT_EVERY = 8; // render quanta between progress reports (~43 ms at 24 kHz)

class Pcm16Playback extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { jitterMs = 80, capacitySeconds = 120 } = options.processorOptions || {};
    this.ring = new Float32Array(Math.round(sampleRate * capacitySeconds));
    this.read = 0;
    this.size = 0;
    this.jitter = Math.round((sampleRate * jitterMs) / 1000);
    this.state = "idle"; // idle | buffering | playing
    this.ended = false;
    this.played = 0; // samples played since the node started
    this.quanta = 0;
    this.epoch = 0; // echoes the page's latest "clear", so it can ignore older reports
    this.port.onmessage = ({ data }) => this.receive(data);
  }

  receive(message) {
    if (message.type === "audio") {
      this.append(new Int16Array(message.pcm));
    } else if (message.type === "end") {
      this.ended = true;
      if (this.size === 0 && this.state !== "playing") this.setState("idle");
    } else if (message.type === "clear") {
      this.epoch = message.epoch;
      this.size = 0;
      this.ended = false;
      this.state = "idle";
      this.report(); // always: the page waits for this to know the queue is empty
    }
  }

  append(samples) {
    if (this.state === "idle") {
      this.ended = false;
      this.setState("buffering");
    }
    const capacity = this.ring.length;
    const room = capacity - this.size;
    const count = Math.min(samples.length, room);
    let write = (this.read + this.size) % capacity;
    for (let i = 0; i < count; i++) {
      this.ring[write] = samples[i] / 32768;
      write = write + 1 === capacity ? 0 : write + 1;
    }
    this.size += count;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.report();
  }

  report() {
    this.port.postMessage({
      type: "stats",
      epoch: this.epoch,
      state: this.state,
      played: this.played,
      buffered: this.size,
    });
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    let written = 0;
    if (this.state === "buffering" && (this.size >= this.jitter || (this.ended && this.size > 0))) {
      this.setState("playing");
    }
    if (this.state === "playing") {
      const capacity = this.ring.length;
      written = Math.min(out.length, this.size);
      for (let i = 0; i < written; i++) {
        out[i] = this.ring[this.read];
        this.read = this.read + 1 === capacity ? 0 : this.read + 1;
      }
      this.size -= written;
      this.played += written;
      if (this.size === 0) {
        this.setState(this.ended ? "idle" : "buffering");
      }
    }
    out.fill(0, written);
    if (this.state !== "idle" && ++this.quanta % REPORT_EVERY === 0) this.report();
    return true;
  }
}

registerProcessor("pcm16-playback", Pcm16Playback);
