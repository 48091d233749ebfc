// Microphone capture and streamed playback, both through AudioWorklets.

const CAPTURE_URL = new URL("./worklets/capture.js", import.meta.url);
const PLAYBACK_URL = new URL("./worklets/playback.js", import.meta.url);
const CAPTURE_RATE = 48000; // the worklet resamples from here to each transport's rate
export const PLAYBACK_RATE = 24000; // PCM16 24 kHz: the servers' output format
const JITTER_MS = 80;

/** A microphone problem in plain words; `kind` is "denied", "missing" or "failed". */
export class MicrophoneError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

function describeMediaError(error) {
  if (error.name === "NotAllowedError" || error.name === "SecurityError") {
    return new MicrophoneError(
      "denied",
      "Microphone access was denied. Allow the microphone for this site in your browser, " +
        "then press Start again.",
    );
  }
  if (error.name === "NotFoundError" || error.name === "OverconstrainedError") {
    return new MicrophoneError("missing", "No microphone was found. Connect one and try again.");
  }
  if (error.name === "NotReadableError") {
    return new MicrophoneError(
      "failed",
      "The microphone is in use by another application or could not be started.",
    );
  }
  return new MicrophoneError("failed", `The microphone could not be started (${error.message}).`);
}

/**
 * The microphone as PCM16 frames: dispatches "frame" events with {pcm: ArrayBuffer, level}.
 * The browser's echo cancellation keeps the assistant's voice out of the frames.
 */
export class Microphone extends EventTarget {
  constructor() {
    super();
    this.stream = null;
    this.context = null;
    this.node = null;
    this.format = { targetRate: CAPTURE_RATE, frameMs: 20 };
  }

  get track() {
    return this.stream ? this.stream.getAudioTracks()[0] : null;
  }

  async open() {
    if (this.stream) return;
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new MicrophoneError("failed", "This browser cannot record audio on this page.");
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          echoCancellation: true,
          noiseSuppression: true,
          autoGainControl: true,
          channelCount: 1,
        },
      });
    } catch (error) {
      throw describeMediaError(error);
    }
    this.context = new AudioContext({ sampleRate: CAPTURE_RATE, latencyHint: "interactive" });
    await this.context.audioWorklet.addModule(CAPTURE_URL);
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "pcm16-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCount: 1,
      channelCountMode: "explicit",
      processorOptions: this.format,
    });
    this.node.port.onmessage = ({ data }) => {
      this.dispatchEvent(new CustomEvent("frame", { detail: data }));
    };
    // The graph is only rendered up to the destination: a muted path keeps the node pulled
    // without playing the microphone back.
    const mute = new GainNode(this.context, { gain: 0 });
    source.connect(this.node).connect(mute).connect(this.context.destination);
    await this.context.resume();
  }

  /** Frames of `frameMs` at `targetRate` from now on (each transport has its own). */
  setFormat(targetRate, frameMs) {
    this.format = { targetRate, frameMs };
    this.node?.port.postMessage({ type: "format", ...this.format });
  }

  close() {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.context?.close();
    this.stream = this.context = this.node = null;
  }
}

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
    this.underruns = 0;
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
    this.underruns = stats.underruns;
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

  close() {
    this.context?.close();
    this.context = this.node = null;
    this.state = "idle";
  }
}
