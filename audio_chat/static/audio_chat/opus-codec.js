// Opus on the wire through WebCodecs: the microphone's 16 kHz PCM16 frames become 20 ms Opus packets, and the
// helper's Opus packets become 24 kHz PCM16 for the player worklet. Browsers without WebCodecs (or without Opus in
// it) keep PCM: see opusSupported().

const INPUT_RATE = 16000;
const OUTPUT_RATE = 24000;
const FRAME_US = 20000;

const encoderConfig = (bitrate) => ({
  codec: "opus",
  sampleRate: INPUT_RATE,
  numberOfChannels: 1,
  bitrate,
  opus: { frameDuration: FRAME_US, application: "voip" },
});
const decoderConfig = { codec: "opus", sampleRate: OUTPUT_RATE, numberOfChannels: 1 };

// True when this browser can both encode and decode Opus (WebCodecs needs a secure context: https or localhost).
export async function opusSupported(bitrate = 24000) {
  if (typeof AudioEncoder === "undefined" || typeof AudioDecoder === "undefined") return false;
  try {
    const [encoder, decoder] = await Promise.all([
      AudioEncoder.isConfigSupported(encoderConfig(bitrate)),
      AudioDecoder.isConfigSupported(decoderConfig),
    ]);
    return Boolean(encoder.supported && decoder.supported);
  } catch {
    return false;
  }
}

// 16 kHz PCM16 frames in (ArrayBuffers from the capture worklet), one Opus packet per 20 ms out (onPacket).
export class OpusUplink {
  constructor(onPacket, { bitrate = 24000, onError = () => {} } = {}) {
    this.timestamp = 0;
    this.encoder = new AudioEncoder({
      output: (chunk) => {
        const packet = new ArrayBuffer(chunk.byteLength);
        chunk.copyTo(packet);
        onPacket(packet);
      },
      error: onError,
    });
    this.encoder.configure(encoderConfig(bitrate));
  }

  encode(pcm16) {
    if (this.encoder.state !== "configured") return;
    const samples = new Int16Array(pcm16);
    const frame = new AudioData({
      format: "s16",
      sampleRate: INPUT_RATE,
      numberOfFrames: samples.length,
      numberOfChannels: 1,
      timestamp: this.timestamp,
      data: samples,
    });
    this.timestamp += Math.round((samples.length / INPUT_RATE) * 1e6);
    this.encoder.encode(frame);
    frame.close();
  }

  close() {
    if (this.encoder.state !== "closed") this.encoder.close();
  }
}

// Opus packets in (one per binary message), 24 kHz PCM16 ArrayBuffers out (onPcm). drop() forgets every packet
// still being decoded: after `interrupted`, nothing queued before it may reach the player.
export class OpusDownlink {
  constructor(onPcm, { onError = () => {} } = {}) {
    this.timestamp = 0;
    this.playFrom = 0; // packets stamped before this were cut off
    this.decoder = new AudioDecoder({
      output: (audio) => {
        if (audio.timestamp >= this.playFrom) onPcm(toPcm16At24k(audio));
        audio.close();
      },
      error: onError,
    });
    this.decoder.configure(decoderConfig);
  }

  decode(packet) {
    if (this.decoder.state !== "configured") return;
    this.decoder.decode(new EncodedAudioChunk({ type: "key", timestamp: this.timestamp, data: packet }));
    this.timestamp += FRAME_US;
  }

  drop() {
    this.playFrom = this.timestamp;
  }

  close() {
    if (this.decoder.state !== "closed") this.decoder.close();
  }
}

// Chromium's decoder renders at 48 kHz whatever rate it was configured with: resample to the player's 24 kHz.
function toPcm16At24k(audio) {
  const frames = audio.numberOfFrames;
  const source = new Float32Array(frames);
  audio.copyTo(source, { planeIndex: 0, format: "f32-planar" });
  const ratio = audio.sampleRate / OUTPUT_RATE;
  const length = Math.floor(frames / ratio);
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    const position = i * ratio;
    const left = Math.floor(position);
    const right = Math.min(left + 1, frames - 1);
    const value = source[left] + (source[right] - source[left]) * (position - left);
    out[i] = Math.max(-1, Math.min(1, value)) * 0x7fff; // clamp before int16
  }
  return out.buffer;
}
