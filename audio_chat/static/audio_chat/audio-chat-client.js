// AudioChatClient: a reusable voice client for the audio-chat WebSocket protocol.
//
//   const client = new AudioChatClient();
//   client.addEventListener("caption", (e) => console.log(e.detail.speaker, e.detail.text, e.detail.final));
//   await client.connect({ websocketPath: session.websocket_path, token: session.client_token });
//   await client.startMicrophone();      // hands-free; client.setTalking(false/true) for push-to-talk
//   client.sendText("Where is the key?");
//
// A connection refused because the service is too busy (an `overloaded` error, then close 1013) is retried like a
// dropped one, after the wait the service suggests. `client.busy` is true while that is why it is reconnecting.
//
// Events (CustomEvent, data in `detail`): connection, status {state}, caption {speaker, text, final},
// response {text}, interrupted, turn {interrupted}, error {code, message}, closed {code, final, byUser},
// microphone {on}.
//
// Audio travels as Opus (20 ms packets, WebCodecs) when the browser can encode and decode it, and as PCM16
// otherwise; `codec: "pcm"` or `"opus"` forces one. `client.codec` is the codec in force once connected.
import { opusSupported, OpusDownlink, OpusUplink } from "./opus-codec.js";
import {
  AudioFormats,
  ClientMessageTypes,
  CloseCodes,
  ErrorCodes,
  ServerMessageTypes,
  StatusStates,
  UplinkFrameMs,
} from "./protocol.js";

const here = new URL(".", import.meta.url);
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000];
// A connection that stayed up this long was healthy: the next drop starts the retries afresh.
const HEALTHY_AFTER_MS = 10_000;
const PLAYBACK_REPORT_MS = 200; // how often the server hears how much of the helper's audio has been played
const FINAL_CLOSE_CODES = new Set(Object.values(CloseCodes).filter((code) => code >= 4000));

export const ClientStatus = Object.freeze({
  CONNECTING: "connecting",
  LISTENING: "listening",
  READY: "ready", // connected, microphone off or held back (push-to-talk): type, or hold to talk
  HELPER_SPEAKING: "helper speaking",
  RECONNECTING: "reconnecting",
  TEXT_FALLBACK: "text fallback",
  OFFLINE_MODE: "offline mode",
  DISCONNECTED: "disconnected",
});

export class AudioChatClient extends EventTarget {
  constructor({
    preRollMs = 150,
    frameMs = UplinkFrameMs,
    audioProcessing = true,
    reconnect = true,
    healthyAfterMs = HEALTHY_AFTER_MS,
    codec = "auto",
  } = {}) {
    super();
    this.options = { preRollMs, frameMs, audioProcessing, reconnect, healthyAfterMs, codec };
    this.codec = "pcm";
    this.uplink = null; // an OpusUplink while the socket speaks Opus up
    this.downlink = null; // an OpusDownlink while it speaks Opus down
    this.socket = null;
    this.mode = null;
    this.talking = true;
    this.stats = {
      framesSent: 0,
      bytesSent: 0,
      playbackReports: 0,
      player: {},
      interruptedAt: null,
      captureRate: null,
    };
    this.status = ClientStatus.DISCONNECTED;
    this.failedAttempts = 0; // consecutive connections that dropped before they were healthy
    this.busyRetryMs = 0; // the service was too busy for a new connection (close 1013): wait about this long
  }

  get busy() {
    return this.busyRetryMs > 0;
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setStatus(state) {
    if (state !== this.status) {
      this.status = state;
      this.emit("status", { state });
    }
  }

  idleStatus() {
    if (!this.capture || !this.talking) return ClientStatus.READY;
    if (this.mode === "offline") return ClientStatus.OFFLINE_MODE;
    if (this.fallback) return ClientStatus.TEXT_FALLBACK;
    return ClientStatus.LISTENING;
  }

  // True while the socket is open: text can be sent.
  get connected() {
    return Boolean(this.socket) && this.socket.readyState === WebSocket.OPEN;
  }

  // Open the socket; resolves with the server's `connection` message.
  async connect({ websocketPath, token }) {
    this.target = { websocketPath, token };
    this.closedByUser = false;
    this.failedAttempts = 0;
    const wanted = this.options.codec;
    this.askedCodec = wanted === "auto" ? ((await opusSupported()) ? "opus" : "pcm") : wanted;
    await this.ensurePlayer();
    return this.open(false);
  }

  // The codecs the server put in force (its `connection` message): fresh Opus state for every socket.
  useCodecs(audioFormat) {
    this.closeCodecs();
    const input = audioFormat && audioFormat.input ? audioFormat.input.codec : "pcm";
    const output = audioFormat && audioFormat.output ? audioFormat.output.codec : "pcm";
    const onError = (error) => this.emit("error", { code: "codec", message: String(error) });
    if (input === "opus") this.uplink = new OpusUplink((packet) => this.sendPacket(packet), { onError });
    if (output === "opus") this.downlink = new OpusDownlink((pcm) => this.playPcm(pcm), { onError });
    this.codec = input === output ? input : `${input} up, ${output} down`;
    this.stats.codec = this.codec;
  }

  closeCodecs() {
    if (this.uplink) this.uplink.close();
    if (this.downlink) this.downlink.close();
    this.uplink = this.downlink = null;
  }

  open(retrying) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The token goes in the first message, not the URL: URLs end up in proxies' access logs.
    const url = `${scheme}://${location.host}${this.target.websocketPath}?codec=${this.askedCodec}`;
    this.setStatus(retrying ? ClientStatus.RECONNECTING : ClientStatus.CONNECTING);
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: ClientMessageTypes.AUTH, token: this.target.token }));
    return new Promise((resolve, reject) => {
      let opened = false;
      let healthyTimer = null;
      socket.onmessage = (event) => {
        if (typeof event.data !== "string") return this.play(event.data);
        const message = JSON.parse(event.data);
        if (message.type === ServerMessageTypes.CONNECTION && !opened) {
          opened = true;
          this.busyRetryMs = 0;
          // Played samples are reported per connection: the player's count goes on across reconnects.
          this.playback = { base: this.stats.player.played || 0, reported: 0, at: 0 };
          this.mode = message.mode;
          this.fallback = message.mode === "text";
          this.useCodecs(message.audio_format);
          this.setStatus(this.idleStatus());
          healthyTimer = setTimeout(() => {
            this.failedAttempts = 0;
          }, this.options.healthyAfterMs);
          this.emit("connection", message);
          resolve(message);
        }
        this.handle(message);
      };
      socket.onclose = (event) => {
        clearTimeout(healthyTimer);
        if (socket !== this.socket) return; // an older socket, already replaced
        const retry = this.options.reconnect && !this.closedByUser && !FINAL_CLOSE_CODES.has(event.code);
        const attempt = this.failedAttempts;
        const willRetry = retry && attempt < RETRY_DELAYS_MS.length;
        this.emit("closed", { code: event.code, final: !willRetry, byUser: this.closedByUser });
        if (!opened) reject(new ConnectionClosedError(event.code));
        if (willRetry) {
          this.failedAttempts = attempt + 1;
          this.stats.reconnects = (this.stats.reconnects || 0) + 1;
          this.setStatus(ClientStatus.RECONNECTING);
          this.retryTimer = setTimeout(() => this.open(true).catch(() => {}), this.retryDelay(event.code, attempt));
        } else {
          this.setStatus(ClientStatus.DISCONNECTED);
          this.releaseMicrophone(); // nothing will carry the audio any more
        }
      };
    });
  }

  // A busy service (1013) names how long to wait: children refused together come back spread over that time,
  // so they do not all knock again at the same moment.
  retryDelay(code, attempt) {
    if (code !== CloseCodes.TRY_AGAIN_LATER || !this.busyRetryMs) return RETRY_DELAYS_MS[attempt];
    return Math.max(RETRY_DELAYS_MS[attempt], this.busyRetryMs * (0.5 + Math.random()));
  }

  handle(message) {
    switch (message.type) {
      case ServerMessageTypes.INPUT_TRANSCRIPT:
        this.emit("caption", { speaker: "child", text: message.text, final: message.final });
        break;
      case ServerMessageTypes.OUTPUT_TRANSCRIPT:
        this.emit("caption", { speaker: "helper", text: message.text, final: true });
        break;
      case ServerMessageTypes.RESPONSE:
        this.emit("response", { text: message.content });
        break;
      case ServerMessageTypes.INTERRUPTED:
        this.flushPlayback(message.played_samples);
        this.emit("interrupted");
        break;
      case ServerMessageTypes.TURN_COMPLETE:
        if (this.player) this.player.port.postMessage({ command: "drain" });
        this.setStatus(this.idleStatus());
        this.emit("turn", { interrupted: message.interrupted });
        break;
      case ServerMessageTypes.STATUS:
        if (message.state === StatusStates.RECONNECTING) this.setStatus(ClientStatus.RECONNECTING);
        if (message.state === StatusStates.FALLBACK) this.fallback = true;
        if (message.state !== StatusStates.RECONNECTING) this.setStatus(this.idleStatus());
        break;
      case ServerMessageTypes.ERROR:
        if (message.code === ErrorCodes.OVERLOADED) this.busyRetryMs = 1000 * (message.retry_after_seconds || 0);
        this.emit("error", { code: message.code, message: message.message });
        break;
    }
  }

  // --- playback --------------------------------------------------------------------------------

  async ensurePlayer() {
    if (this.player) return;
    this.playContext = new AudioContext({ sampleRate: AudioFormats.output.sample_rate });
    if (this.playContext.state !== "running") await this.playContext.resume();
    await this.playContext.audioWorklet.addModule(new URL("player-worklet.js", here));
    this.player = new AudioWorkletNode(this.playContext, "audio-chat-player", {
      outputChannelCount: [1],
      processorOptions: { preRollMs: this.options.preRollMs },
    });
    this.player.connect(this.playContext.destination);
    this.player.port.onmessage = (event) => {
      this.stats.player = event.data;
      this.reportPlayback();
    };
  }

  // Tell the server how much of its audio has really been played, so that it knows whether the child is still
  // hearing the helper (barge-in) and where a cut reply stopped. Sent while audio plays, and when it stops.
  reportPlayback() {
    const playback = this.playback;
    const player = this.stats.player;
    if (!playback || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    const played = Math.max(0, (player.played || 0) - playback.base);
    const now = performance.now();
    const stopped = !player.playing && !player.queued;
    if (played === playback.reported || (!stopped && now - playback.at < PLAYBACK_REPORT_MS)) return;
    playback.reported = played;
    playback.at = now;
    if (this.sendJson({ type: ClientMessageTypes.PLAYBACK, played_samples: played })) this.stats.playbackReports++;
  }

  play(buffer) {
    if (!this.player) return;
    this.setStatus(ClientStatus.HELPER_SPEAKING);
    this.stats.bytesReceived = (this.stats.bytesReceived || 0) + buffer.byteLength;
    if (this.downlink) this.downlink.decode(buffer);
    else this.playPcm(buffer);
  }

  playPcm(buffer) {
    if (this.player) this.player.port.postMessage(buffer, [buffer]);
  }

  // `heard`: where the server believes the reply stopped for the child (samples of that reply), when it says.
  flushPlayback(heard = null) {
    const player = this.stats.player;
    this.stats.interruptedAt = { played: player.played || 0, queued: player.queued || 0, heard, time: performance.now() };
    if (this.downlink) this.downlink.drop(); // packets still decoding were queued before the cut
    if (this.player) this.player.port.postMessage({ command: "flush" });
  }

  // --- microphone ------------------------------------------------------------------------------

  async startMicrophone() {
    if (this.capture) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("this browser offers no microphone here (it needs https or localhost)");
    }
    const processing = this.options.audioProcessing;
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing },
    });
    // The device's own rate: Firefox refuses a context whose rate differs from the microphone's.
    this.captureContext = new AudioContext();
    if (this.captureContext.state !== "running") await this.captureContext.resume();
    this.stats.captureRate = this.captureContext.sampleRate;
    await this.captureContext.audioWorklet.addModule(new URL("capture-worklet.js", here));
    const source = this.captureContext.createMediaStreamSource(this.stream);
    this.capture = new AudioWorkletNode(this.captureContext, "audio-chat-capture", {
      processorOptions: { targetRate: AudioFormats.input.sample_rate, frameMs: this.options.frameMs },
    });
    this.capture.port.onmessage = (event) => this.sendAudio(event.data);
    source.connect(this.capture);
    this.capture.connect(this.captureContext.destination); // keeps the node pulled; it outputs silence
    this.emit("microphone", { on: true });
    if (this.status !== ClientStatus.HELPER_SPEAKING) this.setStatus(this.idleStatus());
  }

  sendAudio(frame) {
    if (!this.talking || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    if (this.uplink) this.uplink.encode(frame);
    else this.sendPacket(frame);
  }

  sendPacket(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(frame);
    this.stats.framesSent++;
    this.stats.bytesSent += frame.byteLength;
  }

  // Push-to-talk: true while the button is held. Releasing ends the child's turn at once.
  setTalking(talking) {
    if (this.talking && !talking) this.sendJson({ type: ClientMessageTypes.AUDIO_END });
    this.talking = talking;
    if (this.status !== ClientStatus.HELPER_SPEAKING && this.connected) this.setStatus(this.idleStatus());
  }

  async stopMicrophone() {
    if (!this.capture) return;
    this.sendJson({ type: ClientMessageTypes.AUDIO_END });
    await this.releaseMicrophone();
  }

  // The microphone off at once (no frame is sent after this), the device released.
  async releaseMicrophone() {
    if (!this.capture) return;
    const capture = this.capture;
    const context = this.captureContext;
    this.capture = null;
    capture.port.onmessage = null;
    this.stream.getTracks().forEach((track) => track.stop());
    this.emit("microphone", { on: false });
    await context.close();
  }

  // --- text ----------------------------------------------------------------------------------

  sendText(content) {
    return this.sendJson({ type: ClientMessageTypes.TEXT, content });
  }

  // --- what the game shares ------------------------------------------------------------------

  // A screenshot as base64 (JPEG, PNG or WebP). The server checks and shrinks it; an "error" event says why
  // one was refused.
  sendImage(base64) {
    return this.sendJson({ type: ClientMessageTypes.IMAGE, content: base64 });
  }

  // What the game knows: an object of strings, numbers, booleans and short lists (2 KiB at most).
  sendGameState(state) {
    return this.sendJson({ type: ClientMessageTypes.GAME_STATE, state });
  }

  sendJson(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  // Stop: microphone off, socket closed, no reconnect. The session lives on: connect() again continues it.
  async close() {
    this.closedByUser = true;
    clearTimeout(this.retryTimer);
    await this.stopMicrophone();
    if (this.socket) this.socket.close(1000);
    this.closeCodecs();
    if (this.playContext) await this.playContext.close();
    this.player = null;
    this.playContext = null;
  }
}

export class ConnectionClosedError extends Error {
  constructor(code) {
    super(`connection closed (${code})`);
    this.code = code;
  }
}
