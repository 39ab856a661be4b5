// AudioChatClient: a reusable voice client for the audio-chat WebSocket protocol.
//
//   const client = new AudioChatClient();
//   client.addEventListener("caption", (e) => console.log(e.detail.speaker, e.detail.text, e.detail.final));
//   await client.connect({ websocketPath: session.websocket_path, token: session.client_token });
//   await client.startMicrophone();      // hands-free; client.setTalking(false/true) for push-to-talk
//   client.sendText("Where is the key?");
//
// Events (CustomEvent, data in `detail`): connection, status {state, label}, caption {speaker, text, final},
// response {text}, interrupted, turn {interrupted}, error {code, message}, closed {code}.
//
// Audio travels as Opus (20 ms packets, WebCodecs) when the browser can encode and decode it, and as PCM16
// otherwise; `codec: "pcm"` or `"opus"` forces one. `client.codec` is the codec in force once connected.
import { opusSupported, OpusDownlink, OpusUplink } from "./opus-codec.js";
import { ClientMessageTypes, CloseCodes, ServerMessageTypes, StatusStates } from "./protocol.js";

const here = new URL(".", import.meta.url);
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000];
const FINAL_CLOSE_CODES = new Set(Object.values(CloseCodes).filter((code) => code >= 4000));

export const ClientStatus = Object.freeze({
  CONNECTING: "connecting",
  LISTENING: "listening",
  HELPER_SPEAKING: "helper speaking",
  RECONNECTING: "reconnecting",
  TEXT_FALLBACK: "text fallback",
  OFFLINE_MODE: "offline mode",
  DISCONNECTED: "disconnected",
});

export class AudioChatClient extends EventTarget {
  constructor({ preRollMs = 150, frameMs = 20, audioProcessing = true, reconnect = true, codec = "auto" } = {}) {
    super();
    this.options = { preRollMs, frameMs, audioProcessing, reconnect, codec };
    this.codec = "pcm";
    this.uplink = null; // an OpusUplink while the socket speaks Opus up
    this.downlink = null; // an OpusDownlink while it speaks Opus down
    this.socket = null;
    this.mode = null;
    this.talking = true;
    this.stats = { framesSent: 0, bytesSent: 0, player: {}, interruptedAt: null, captureRate: null };
    this.status = ClientStatus.DISCONNECTED;
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
    if (this.mode === "offline") return ClientStatus.OFFLINE_MODE;
    if (this.fallback) return ClientStatus.TEXT_FALLBACK;
    return ClientStatus.LISTENING;
  }

  // Open the socket; resolves with the server's `connection` message.
  async connect({ websocketPath, token }) {
    this.target = { websocketPath, token };
    this.closedByUser = false;
    const wanted = this.options.codec;
    this.askedCodec = wanted === "auto" ? ((await opusSupported()) ? "opus" : "pcm") : wanted;
    await this.ensurePlayer();
    return this.open(0);
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

  open(attempt) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const token = encodeURIComponent(this.target.token);
    const url = `${scheme}://${location.host}${this.target.websocketPath}?token=${token}&codec=${this.askedCodec}`;
    this.setStatus(attempt ? ClientStatus.RECONNECTING : ClientStatus.CONNECTING);
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    return new Promise((resolve, reject) => {
      let opened = false;
      socket.onmessage = (event) => {
        if (typeof event.data !== "string") return this.play(event.data);
        const message = JSON.parse(event.data);
        if (message.type === ServerMessageTypes.CONNECTION && !opened) {
          opened = true;
          this.mode = message.mode;
          this.fallback = message.mode === "text";
          this.useCodecs(message.audio_format);
          this.setStatus(this.idleStatus());
          this.emit("connection", message);
          resolve(message);
        }
        this.handle(message);
      };
      socket.onclose = (event) => {
        this.emit("closed", { code: event.code });
        if (!opened) reject(new Error(`connection closed (${event.code})`));
        const retry = this.options.reconnect && !this.closedByUser && !FINAL_CLOSE_CODES.has(event.code);
        if (retry && attempt < RETRY_DELAYS_MS.length) {
          this.setStatus(ClientStatus.RECONNECTING);
          setTimeout(() => this.open(attempt + 1).catch(() => {}), RETRY_DELAYS_MS[attempt]);
        } else {
          this.setStatus(ClientStatus.DISCONNECTED);
        }
      };
    });
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
        this.flushPlayback();
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
        this.emit("error", { code: message.code, message: message.message });
        break;
    }
  }

  // --- playback --------------------------------------------------------------------------------

  async ensurePlayer() {
    if (this.player) return;
    this.playContext = new AudioContext({ sampleRate: 24000 });
    if (this.playContext.state !== "running") await this.playContext.resume();
    await this.playContext.audioWorklet.addModule(new URL("player-worklet.js", here));
    this.player = new AudioWorkletNode(this.playContext, "audio-chat-player", {
      outputChannelCount: [1],
      processorOptions: { preRollMs: this.options.preRollMs },
    });
    this.player.connect(this.playContext.destination);
    this.player.port.onmessage = (event) => {
      this.stats.player = event.data;
    };
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

  flushPlayback() {
    this.stats.interruptedAt = { played: this.stats.player.played || 0, time: performance.now() };
    if (this.downlink) this.downlink.drop(); // packets still decoding were queued before the cut
    if (this.player) this.player.port.postMessage({ command: "flush" });
  }

  // --- microphone ------------------------------------------------------------------------------

  async startMicrophone() {
    if (this.capture) return;
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
      processorOptions: { targetRate: 16000, frameMs: this.options.frameMs },
    });
    this.capture.port.onmessage = (event) => this.sendAudio(event.data);
    source.connect(this.capture);
    this.capture.connect(this.captureContext.destination); // keeps the node pulled; it outputs silence
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
  }

  async stopMicrophone() {
    if (!this.capture) return;
    this.sendJson({ type: ClientMessageTypes.AUDIO_END });
    this.stream.getTracks().forEach((track) => track.stop());
    await this.captureContext.close();
    this.capture = null;
  }

  // --- text ----------------------------------------------------------------------------------

  sendText(content) {
    return this.sendJson({ type: ClientMessageTypes.TEXT, content });
  }

  sendJson(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  async close() {
    this.closedByUser = true;
    await this.stopMicrophone();
    if (this.socket) this.socket.close(1000);
    this.closeCodecs();
    if (this.playContext) await this.playContext.close();
    this.player = null;
  }
}
