// Microphone capture through an AudioWorklet, as PCM16 frames for the transports.

const CAPTURE_URL = new URL("./worklets/capture.js", import.meta.url);
const CAPTURE_RATE = 48000; // the worklet resamples from here to each transport's rate

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
