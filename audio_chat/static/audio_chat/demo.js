// The demo page: start or continue a chat session, then talk (hands-free or push-to-talk) or type.
import { AudioChatClient, ClientStatus } from "./audio-chat-client.js";

const $ = (id) => document.getElementById(id);
const LAST_SESSION_KEY = "audio-chat:last-session";
const params = new URLSearchParams(location.search);
const STATUS_TEXT = {
  [ClientStatus.CONNECTING]: "Connecting…",
  [ClientStatus.LISTENING]: "Listening: talk to the helper.",
  [ClientStatus.HELPER_SPEAKING]: "The helper is speaking…",
  [ClientStatus.RECONNECTING]: "Reconnecting…",
  [ClientStatus.TEXT_FALLBACK]: "Backup voice: the helper still listens and answers.",
  [ClientStatus.OFFLINE_MODE]: "Offline mode: listening, on this computer only.",
  [ClientStatus.DISCONNECTED]: "Disconnected.",
};

let client = null;
let childBubble = null; // the child's caption being spoken
let helperBubble = null; // the helper's reply being spoken
const page = (window.__demo = { phase: "idle", errors: [] });

function setStatus(state) {
  $("status").dataset.state = state;
  $("status").textContent = STATUS_TEXT[state] || state;
}

function bubble(speaker, text) {
  const item = document.createElement("li");
  item.className = speaker;
  item.textContent = text;
  $("conversation").append(item);
  item.scrollIntoView({ block: "end", behavior: "smooth" });
  return item;
}

function cookie(name) {
  const match = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(path, { token, ...options } = {}) {
  const headers = { "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken") };
  if (token) headers.Authorization = `Bearer ${token}`; // the session's own client token
  const response = await fetch(path, { headers, credentials: "same-origin", ...options });
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(body && body.detail ? body.detail : `HTTP ${response.status}`);
  return body;
}

function loadLevels() {
  const levels = JSON.parse($("levels-data").textContent);
  $("level").replaceChildren(...levels.map((level) => new Option(level.title, level.slug)));
  if (!JSON.parse($("demo-enabled").textContent)) {
    $("start").disabled = true;
    setStatus("The demo starts sessions only when the service runs with DEBUG on.");
  }
}

async function showStoredConversation(session) {
  const page = await api(`/api/history/?session_id=${session.id}&limit=200`, { token: session.client_token });
  $("conversation").replaceChildren();
  for (const message of page.messages) {
    const item = bubble(message.sender === "child" ? "child" : "helper", message.text);
    if (message.interrupted) item.classList.add("cut");
  }
}

function onCaption({ speaker, text, final }) {
  if (speaker === "child") {
    childBubble = childBubble || bubble("child", "");
    childBubble.textContent = text;
    childBubble.classList.toggle("partial", !final);
    if (final) childBubble = null;
    helperBubble = null;
  } else {
    helperBubble = helperBubble || bubble("helper", "");
    helperBubble.textContent = `${helperBubble.textContent} ${text}`.trim();
  }
}

async function begin(session) {
  localStorage.setItem(LAST_SESSION_KEY, JSON.stringify(session));
  if (client) await client.close();
  client = window.__audioChat = new AudioChatClient({
    audioProcessing: params.get("processing") !== "off",
    preRollMs: Number(params.get("prerollMs") || 150),
    codec: params.get("codec") || "auto", // ?codec=pcm|opus forces one; by default Opus when WebCodecs has it
  });
  client.addEventListener("status", (event) => setStatus(event.detail.state));
  client.addEventListener("caption", (event) => onCaption(event.detail));
  client.addEventListener("response", (event) => {
    if (!helperBubble) bubble("helper", event.detail.text);
  });
  client.addEventListener("interrupted", () => helperBubble && helperBubble.classList.add("cut"));
  client.addEventListener("turn", () => {
    helperBubble = null;
  });
  client.addEventListener("error", (event) => {
    page.errors.push(event.detail);
    bubble("error", event.detail.message);
  });
  page.phase = "connecting";
  const connection = await client.connect({ websocketPath: session.websocket_path, token: session.client_token });
  page.connection = connection;
  page.codec = client.codec;
  $("codec").textContent = `Audio: ${client.codec === "opus" ? "Opus (WebCodecs)" : client.codec === "pcm" ? "PCM" : client.codec}`;
  $("codec").dataset.codec = client.codec;
  $("talk-controls").hidden = false;
  $("text-form").hidden = false;
  try {
    await client.startMicrophone();
    applyTalkMode();
  } catch (error) {
    bubble("error", `No microphone (${error.message}); you can still type.`);
    $("talk").disabled = true;
  }
  page.phase = "ready";
}

function applyTalkMode() {
  const handsFree = $("hands-free").checked;
  $("talk").textContent = handsFree ? "Listening (hands-free)" : "Hold to talk";
  $("talk").disabled = handsFree;
  if (client) client.setTalking(handsFree);
}

function holdToTalk(pressed) {
  if (!client || $("hands-free").checked) return;
  $("talk").setAttribute("aria-pressed", String(pressed));
  client.setTalking(pressed);
}

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const session = await api("/demo/sessions/", {
      method: "POST",
      body: JSON.stringify({ level: $("level").value, child_age: Number($("age").value) }),
    });
    $("conversation").replaceChildren();
    await begin(session);
  } catch (error) {
    page.phase = "error";
    setStatus(`Could not start: ${error.message}`);
  }
});

$("resume").addEventListener("click", async () => {
  const session = JSON.parse(localStorage.getItem(LAST_SESSION_KEY));
  try {
    await showStoredConversation(session);
    await begin(session);
  } catch (error) {
    page.phase = "error";
    setStatus(`Could not continue: ${error.message}`);
  }
});

$("hands-free").addEventListener("change", applyTalkMode);
$("talk").addEventListener("pointerdown", () => holdToTalk(true));
for (const type of ["pointerup", "pointerleave", "pointercancel"]) {
  $("talk").addEventListener(type, () => holdToTalk(false));
}

$("text-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const content = $("text").value.trim();
  if (!content || !client || !client.sendText(content)) return;
  helperBubble = null;
  bubble("child", content);
  $("text").value = "";
});

$("resume").hidden = !localStorage.getItem(LAST_SESSION_KEY);
loadLevels();
