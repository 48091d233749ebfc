// Microphone capture: resamples the context's audio to a target rate and posts PCM16 frames.
//
// Runs on the audio rendering thread. Each message is one frame of `frameMs` at `targetRate`
// (20 ms at 48 kHz = 960 samples = 1920 bytes for /voice-ws) plus its RMS level (0..1),
// which the page uses for the level meter and its energy VAD.

class Pcm16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.configure(options.processorOptions || {});
    this.port.onmessage = ({ data }) => {
      if (data.type === "format") this.configure(data);
    };
  }

  configure({ targetRate = 48000, frameMs = 20 }) {
    this.step = sampleRate / targetRate; // input samples per output sample
    this.frameSamples = Math.round((targetRate * frameMs) / 1000);
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.sumSquares = 0;
    this.position = 0; // fractional read position into the current block
    this.previous = 0; // last input sample of the previous block, for interpolation
    this.acc = 0; // running sum and count for integer-ratio decimation
    this.accCount = 0;
  }

  push(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.frame[this.filled++] = clamped < 0 ? clamped * 32768 : clamped * 32767;
    this.sumSquares += clamped * clamped;
    if (this.filled === this.frameSamples) {
      const level = Math.sqrt(this.sumSquares / this.filled);
      const pcm = this.frame.buffer;
      this.port.postMessage({ pcm, level }, [pcm]);
      this.frame = new Int16Array(this.frameSamples); // the old buffer now belongs to the page
      this.filled = 0;
      this.sumSquares = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const block = channels[0];
    if (Number.isInteger(this.step)) {
      // 48 -> 48 or 48 -> 24 kHz: averaging `step` samples is a cheap low-pass before decimation.
      for (let i = 0; i < block.length; i++) {
        this.acc += block[i];
        if (++this.accCount === this.step) {
          this.push(this.acc / this.step);
          this.acc = 0;
          this.accCount = 0;
        }
      }
      return true;
    }
    // Any other ratio: linear interpolation; position -1 is the previous block's last sample.
    let t = this.position;
    while (t < block.length - 1) {
      const i = Math.floor(t);
      const a = i < 0 ? this.previous : block[i];
      const b = block[i + 1];
      this.push(a + (b - a) * (t - i));
      t += this.step;
    }
    this.position = t - block.length;
    this.previous = block[block.length - 1];
    return true;
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
