// Streamed playback of the assistant's voice through an AudioWorklet.

const PLAYBACK_URL = new URL("./worklets/playback.js", import.meta.url);
const PLAYBACK_RATE = 24000; // PCM16 24 kHz: the servers' output format
const JITTER_MS = 80;

/**
 * Streamed PCM16 24 kHz playback with a jitter buffer. `playedMs` counts what really reached
 * the speakers; `stop()` silences at once and drops everything queued.
 */
export class Player extends EventTarget {
  constructor() {
    super();
    this.context = null;
    this.node = null;
    this.state = "idle";
    this.playedSamples = 0;
    this.bufferedSamples = 0;
    this.epoch = 0; // bumped by stop(): reports sent before the audio thread saw it are stale
  }

  get playedMs() {
    return Math.round(this.playedSamples / (PLAYBACK_RATE / 1000));
  }

  get queuedMs() {
    return Math.round(this.bufferedSamples / (PLAYBACK_RATE / 1000));
  }

  /** Audio is playing or waiting in the jitter buffer. */
  get active() {
    return this.state !== "idle";
  }

  async open() {
    if (!this.context) {
      this.context = new AudioContext({ sampleRate: PLAYBACK_RATE, latencyHint: "interactive" });
      await this.context.audioWorklet.addModule(PLAYBACK_URL);
      this.node = new AudioWorkletNode(this.context, "pcm16-playback", {
        numberOfInputs: 0,
        outputChannelCount: [1],
        processorOptions: { jitterMs: JITTER_MS },
      });
      this.node.port.onmessage = ({ data }) => this.onStats(data);
      this.node.connect(this.context.destination);
    }
    await this.context.resume(); // needs a user gesture the first time
  }

  onStats(stats) {
    this.playedSamples = stats.played;
    if (stats.epoch !== this.epoch) return;
    this.state = stats.state;
    this.bufferedSamples = stats.buffered;
    this.dispatchEvent(new CustomEvent("change"));
  }

  /** Queue PCM16 samples (an Int16Array; its buffer is handed to the audio thread). */
  enqueue(samples) {
    if (!this.node || samples.length === 0) return;
    const whole = samples.byteOffset === 0 && samples.buffer.byteLength === samples.byteLength;
    const pcm = whole ? samples.buffer : samples.slice().buffer;
    this.node.port.postMessage({ type: "audio", pcm }, [pcm]);
    this.bufferedSamples += samples.length;
    if (this.state === "idle") this.state = "buffering";
  }

  /** The response's audio is complete: play out what is buffered, even under the jitter size. */
  end() {
    this.node?.port.postMessage({ type: "end" });
  }

  /** Barge-in: silence now and drop the queue. */
  stop() {
    this.epoch += 1;
    this.node?.port.postMessage({ type: "clear", epoch: this.epoch });
    this.state = "idle";
    this.bufferedSamples = 0;
    this.dispatchEvent(new CustomEvent("change"));
  }
}
