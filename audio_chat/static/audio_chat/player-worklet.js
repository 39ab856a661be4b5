// Playback of the helper's 24 kHz PCM16 with a small jitter buffer.
// Playing starts once `preRollMs` of audio is queued (or on "drain" at the end of a turn). An empty queue
// while playing counts as an underrun and buffers again. "flush" fades out over a few milliseconds (no
// click) and drops everything queued. Counters are posted every 50 ms of render time, and at once when
// playback stops (the client tells the server how much was played).
class PlayerProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const settings = (options && options.processorOptions) || {};
    this.preRoll = Math.round((sampleRate * (settings.preRollMs || 150)) / 1000);
    this.fadeLength = Math.round(sampleRate * 0.005);
    this.chunks = [];
    this.readPosition = 0;
    this.queued = 0;
    this.playing = false;
    this.draining = false;
    this.fadeLeft = 0;
    this.waited = 0; // render samples spent buffering with audio queued
    this.stats = { played: 0, queued: 0, underruns: 0, flushes: 0, flushedSamples: 0, playing: false };
    this.sinceReport = 0;
    this.port.onmessage = (event) => this.command(event.data);
  }

  command(data) {
    if (data instanceof ArrayBuffer) {
      const pcm = new Int16Array(data);
      const samples = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 32768;
      this.chunks.push(samples);
      this.queued += samples.length;
    } else if (data && data.command === "flush") {
      this.stats.flushes++;
      this.playedAtFlush = this.stats.played;
      this.fadeLeft = this.playing ? this.fadeLength : 0;
      if (!this.fadeLeft) this.dropAll();
      this.report();
    } else if (data && data.command === "drain") {
      this.draining = true;
    }
  }

  dropAll() {
    if (this.playedAtFlush !== undefined) {
      // How many samples still sounded after the flush arrived (the fade): at most one render quantum.
      this.stats.playedAfterFlush = this.stats.played - this.playedAtFlush;
      this.playedAtFlush = undefined;
    }
    this.stats.flushedSamples += this.queued;
    this.chunks = [];
    this.readPosition = 0;
    this.queued = 0;
    this.playing = false;
    this.draining = false;
    this.stats.playing = false;
    this.stats.queued = 0;
    this.report();
  }

  next() {
    const chunk = this.chunks[0];
    const sample = chunk[this.readPosition++];
    if (this.readPosition === chunk.length) {
      this.chunks.shift();
      this.readPosition = 0;
    }
    this.queued--;
    this.stats.played++;
    return sample;
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    if (!this.playing && this.queued > 0) {
      // A reply shorter than the pre-roll (or its tail) must still play: never wait longer than the pre-roll.
      this.waited += out.length;
      if (this.queued >= this.preRoll || this.draining || this.waited >= this.preRoll) this.playing = true;
    }
    if (this.playing) this.waited = 0;
    for (let i = 0; i < out.length; i++) {
      if (this.fadeLeft > 0) {
        out[i] = this.queued > 0 ? (this.next() * this.fadeLeft) / this.fadeLength : 0;
        if (--this.fadeLeft === 0) {
          this.dropAll();
        }
      } else if (this.playing && this.queued > 0) {
        out[i] = this.next();
      } else {
        if (this.playing && !this.draining) this.stats.underruns++;
        if (this.playing) {
          this.playing = false;
          this.sinceReport = sampleRate; // report this frame: the server learns that playback stopped
        }
        this.draining = this.queued > 0 && this.draining;
        out[i] = 0;
        for (let j = i + 1; j < out.length; j++) out[j] = 0;
        break;
      }
    }
    this.stats.queued = this.queued;
    this.stats.playing = this.playing;
    if ((this.sinceReport += out.length) >= sampleRate / 20) this.report();
    return true;
  }

  report() {
    this.sinceReport = 0;
    this.port.postMessage({ ...this.stats });
  }
}

registerProcessor("audio-chat-player", PlayerProcessor);
