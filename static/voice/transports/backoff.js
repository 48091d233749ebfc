// How long a transport waits before its next attempt to connect.

/** Exponential backoff with "equal jitter": half the delay is fixed, half random. */
export class Backoff {
  constructor({ baseMs = 500, capMs = 15_000, factor = 2, random = Math.random } = {}) {
    Object.assign(this, { baseMs, capMs, factor, random });
    this.attempt = 0;
  }

  next() {
    const ceiling = Math.min(this.capMs, this.baseMs * this.factor ** this.attempt);
    this.attempt += 1;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset() {
    this.attempt = 0;
  }
}
