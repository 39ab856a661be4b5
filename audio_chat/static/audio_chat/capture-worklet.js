// Microphone capture: any device rate and channel count in, 16 kHz mono PCM16 frames out.
// Mixes to mono, low-pass filters (windowed sinc) below the new Nyquist, resamples by fractional
// interpolation, clamps to [-1, 1] and posts Int16 frames of `frameMs` as transferable buffers.
import { AudioFormats, UplinkFrameMs } from "./protocol.js";

class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const settings = (options && options.processorOptions) || {};
    this.targetRate = settings.targetRate || AudioFormats.input.sample_rate;
    this.frame = new Int16Array(Math.round((this.targetRate * (settings.frameMs || UplinkFrameMs)) / 1000));
    this.framePosition = 0;
    this.step = sampleRate / this.targetRate; // input samples per output sample
    this.taps = this.lowPass(this.step > 1.0001 ? 63 : 1, Math.min(0.5, (0.45 * this.targetRate) / sampleRate));
    this.history = new Float32Array(this.taps.length);
    this.historyPosition = 0;
    this.previous = 0;
    this.phase = 0;
    this.sending = true;
    this.port.onmessage = (event) => {
      if (event.data && event.data.command === "pause") this.sending = false;
      if (event.data && event.data.command === "resume") this.sending = true;
    };
  }

  lowPass(count, cutoff) {
    const taps = new Float32Array(count);
    const middle = (count - 1) / 2;
    let sum = 0;
    for (let n = 0; n < count; n++) {
      const x = n - middle;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      const window = count === 1 ? 1 : 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (count - 1));
      taps[n] = sinc * window;
      sum += taps[n];
    }
    for (let n = 0; n < count; n++) taps[n] /= sum;
    return taps;
  }

  filtered(sample) {
    const { history, taps } = this;
    history[this.historyPosition] = sample;
    this.historyPosition = (this.historyPosition + 1) % taps.length;
    let y = 0;
    for (let k = 0, p = this.historyPosition; k < taps.length; k++) {
      y += taps[k] * history[p];
      if (++p === taps.length) p = 0;
    }
    return y;
  }

  emit(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.frame[this.framePosition++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
    if (this.framePosition === this.frame.length) {
      this.framePosition = 0;
      if (this.sending) {
        const buffer = this.frame.buffer.slice(0); // the frame array is reused: send a copy
        this.port.postMessage(buffer, [buffer]);
      }
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    for (let i = 0; i < channels[0].length; i++) {
      let sample = 0;
      for (let c = 0; c < channels.length; c++) sample += channels[c][i];
      const current = this.filtered(sample / channels.length);
      while (this.phase <= 1) {
        this.emit(this.previous + (current - this.previous) * this.phase);
        this.phase += this.step;
      }
      this.phase -= 1;
      this.previous = current;
    }
    return true;
  }
}

registerProcessor("audio-chat-capture", CaptureProcessor);
