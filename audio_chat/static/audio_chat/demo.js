// The demo page: start or continue a chat session, then talk (hands-free or hold-to-talk) or type; Stop ends
// the connection and keeps the session.
import { AudioChatClient, ClientStatus, ConnectionClosedError } from "./audio-chat-client.js";
import { CloseCodes, ErrorCodes } from "./protocol.js";

const $ = (id) => document.getElementById(id);
const LAST_SESSION_KEY = "audio-chat:last-session";
const params = new URLSearchParams(location.search);

// What the child reads, and what a parent (or developer) may want to know, for every close code of the protocol.
export const CLOSE_MESSAGES = {
  [CloseCodes.UNSUPPORTED_DATA]: {
    child: "The helper can't hear this kind of sound. Ask a grown-up to help.",
    parent: "The page asked for an audio codec the service does not speak (close code 1003); use codec=pcm or opus.",
  },
  [CloseCodes.MESSAGE_TOO_BIG]: {
    child: "Oops, that was too much at once. Press Continue to keep talking.",
    parent: "The page sent a message larger than the service accepts (close code 1009).",
  },
  [CloseCodes.INTERNAL_ERROR]: {
    child: "The helper got muddled and stopped. Press Continue to try again.",
    parent: "The service hit an unexpected error and closed the connection (1011). The chat so far is saved.",
  },
  [CloseCodes.TRY_AGAIN_LATER]: {
    child: "The helper is very busy right now. Press Continue to try again in a minute.",
    parent:
      "The service was at capacity and refused a new connection (close code 1013, Try Again Later); the page " +
      "retried and gave up. The chat is saved.",
  },
  [CloseCodes.SESSION_NOT_FOUND]: {
    child: "This chat is gone. Press Start to begin a new one.",
    parent: "The session no longer exists: it was erased or expired (4004).",
  },
  [CloseCodes.SESSION_ENDED]: {
    child: "This chat has ended. Press Start to begin a new one.",
    parent: "The session was ended by the game or in the admin, so it accepts no more messages (4010).",
  },
  [CloseCodes.LIMIT_REACHED]: {
    child: "Time for a break! You can talk to the helper again later.",
    parent:
      "A limit was reached (4029): today's speaking minutes, too many open connections to this chat, " +
      "or too many messages at once.",
  },
  [CloseCodes.UNAUTHORIZED]: {
    child: "The helper doesn't recognise this chat any more. Press Start to begin a new one.",
    parent: "The chat's client token was refused: it expired or was replaced by a newer one (4401).",
  },
  [CloseCodes.ORIGIN_NOT_ALLOWED]: {
    child: "This page isn't allowed to talk to the helper.",
    parent: "The service does not accept connections from this page's address (4403: WEBSOCKET_ALLOWED_ORIGINS).",
  },
};
const CONNECTION_LOST = {
  child: "The helper can't be reached right now. Press Continue to try again.",
  parent: "The connection dropped and could not be restored",
};
const STOPPED = {
  child: "Stopped. Your chat is saved: press Continue to carry on.",
  parent: "The microphone is off and the connection is closed.",
};

// After these the session cannot be continued from this page.
const CLOSED_FOR_GOOD = new Set([
  CloseCodes.SESSION_ENDED,
  CloseCodes.SESSION_NOT_FOUND,
  CloseCodes.UNAUTHORIZED,
  CloseCodes.ORIGIN_NOT_ALLOWED,
]);

// Messages the service refuses one by one: the typed message they answer was not taken.
const REFUSED_MESSAGE_CODES = new Set([
  ErrorCodes.INVALID_FIELD,
  ErrorCodes.TEXT_TOO_LONG,
  ErrorCodes.RATE_LIMITED,
  ErrorCodes.NOT_AN_OBJECT,
  ErrorCodes.INVALID_JSON,
  ErrorCodes.UNKNOWN_TYPE,
]);

let client = null;
let childBubble = null; // the child's caption being spoken
let helperBubble = null; // the helper's reply being spoken
let pendingReplies = []; // placeholders under typed messages, answered in the order they were sent
let noMicrophone = false;
const page = (window.__demo = { phase: "idle", errors: [], closeCode: null });

function showStatus(state, text, detail = "") {
  $("status").dataset.state = state;
  $("status").textContent = text;
  $("status-detail").textContent = detail;
  $("status-detail").hidden = !detail;
}

function listeningText() {
  const handsFree = $("hands-free").checked;
  const mode = client && client.mode === "offline" ? " (offline helper, on this computer)" : "";
  if (noMicrophone) return "Type your question to the helper.";
  if (!handsFree) return "Hold the big button while you talk, or type.";
  return `Listening: just talk to the helper${mode}.`;
}

function onClientStatus(state) {
  switch (state) {
    case ClientStatus.CONNECTING:
      return showStatus(state, "Connecting to the helper…");
    case ClientStatus.RECONNECTING:
      if (client && client.busy) return showStatus(state, "The helper is very busy. Trying again in a moment…");
      return showStatus(state, "Lost the connection. Trying again…");
    case ClientStatus.HELPER_SPEAKING:
      return showStatus(state, "The helper is speaking…");
    case ClientStatus.LISTENING:
    case ClientStatus.OFFLINE_MODE:
      return showStatus("listening", listeningText());
    case ClientStatus.TEXT_FALLBACK:
      return showStatus("listening", listeningText(), "Backup voice: the helper still listens and answers.");
    case ClientStatus.READY:
      return showStatus("ready", listeningText());
    case ClientStatus.DISCONNECTED:
      return undefined; // the `closed` event says why
  }
  return undefined;
}

function scrollToNewest() {
  // The conversation scrolls under the docked controls, which stay where they are.
  window.scrollTo({ top: document.documentElement.scrollHeight });
}

function bubble(speaker, text) {
  const item = document.createElement("li");
  item.className = speaker;
  item.textContent = text;
  $("conversation").append(item);
  scrollToNewest();
  return item;
}

function placeholder() {
  const item = bubble("helper pending", "…");
  item.setAttribute("aria-label", "The helper is thinking");
  return item;
}

function settle(item, text, className = "helper") {
  item.className = className;
  item.removeAttribute("aria-label");
  item.textContent = text;
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

const levelTitles = new Map();

function loadLevels() {
  const levels = JSON.parse($("levels-data").textContent);
  for (const level of levels) levelTitles.set(level.slug, level.title);
  $("level").replaceChildren(...levels.map((level) => new Option(level.title, level.slug)));
  if (!JSON.parse($("demo-enabled").textContent)) {
    $("start").disabled = true;
    showStatus("idle", "The demo starts sessions only when the service runs with DEBUG on (make run).");
  }
}

function showSessionInfo(session) {
  const started = new Date(session.created_at || Date.now());
  const title = levelTitles.get(session.level) || session.level || "your level";
  const time = started.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  $("session-info").textContent = `Chat about “${title}” for a ${session.child_age}-year-old, started ${time}.`;
  $("session-info").hidden = false;
}

async function showStoredConversation(session) {
  const history = await api(`/api/history/?session_id=${session.id}&limit=200`, { token: session.client_token });
  $("conversation").replaceChildren();
  for (const message of history.messages) {
    if (message.sender === "tool") continue; // a hint the model looked up: not something anyone said
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
    if (!helperBubble) {
      const waiting = pendingReplies.shift();
      helperBubble = waiting || bubble("helper", "");
      if (waiting) settle(waiting, "");
    }
    helperBubble.textContent = `${helperBubble.textContent} ${text}`.trim();
    scrollToNewest();
  }
}

function onResponse(text) {
  if (helperBubble) return; // its captions already showed this reply
  const waiting = pendingReplies.shift();
  if (waiting) settle(waiting, text);
  else bubble("helper", text);
  scrollToNewest();
}

function onError({ code, message }) {
  page.errors.push({ code, message });
  if (REFUSED_MESSAGE_CODES.has(code) && pendingReplies.length) {
    settle(pendingReplies.pop(), `Not sent: ${message}`, "error");
  } else if (code === ErrorCodes.OVERLOADED) {
    // The status line says it (the client retries on its own); no bubble per refused attempt.
  } else if (code === ErrorCodes.HELPER_UNAVAILABLE && pendingReplies.length) {
    settle(pendingReplies.shift(), message, "error");
  } else {
    bubble("error", message);
  }
}

function showControls(connected) {
  $("talk-controls").hidden = !connected;
  // Closed by the service: the box stays, with whatever the child was typing, but nothing can be sent.
  $("text-form").hidden = !connected && page.phase !== "closed";
  $("send").disabled = !connected;
}

function onClosed({ code, final, byUser }) {
  if (!final) return; // the client retries on its own
  for (const waiting of pendingReplies) settle(waiting, "Not answered: the chat closed.", "error");
  pendingReplies = [];
  helperBubble = null;
  childBubble = null;
  page.closeCode = code;
  page.phase = byUser ? "stopped" : "closed";
  const lost = { ...CONNECTION_LOST, parent: `${CONNECTION_LOST.parent} (${code}).` };
  const message = byUser ? STOPPED : CLOSE_MESSAGES[code] || lost;
  showStatus(byUser ? "stopped" : "closed", message.child, message.parent);
  showControls(false);
  const canContinue = byUser || !CLOSED_FOR_GOOD.has(code);
  $("resume").textContent = "Continue this chat";
  $("resume").hidden = !canContinue;
  if (!canContinue) localStorage.removeItem(LAST_SESSION_KEY);
}

// "Mic on" only while the helper hears the child: hands-free, or the talk button held.
function showMicrophone() {
  const capturing = Boolean(client && client.capture);
  const on = capturing && client.talking && client.connected;
  $("mic").dataset.on = String(on);
  $("mic").textContent = on ? "Mic on" : capturing ? "Mic ready" : noMicrophone ? "No mic" : "Mic off";
}

async function stop() {
  if (client) await client.close();
}

async function begin(session) {
  localStorage.setItem(LAST_SESSION_KEY, JSON.stringify(session));
  if (client) await client.close();
  pendingReplies = [];
  helperBubble = null;
  childBubble = null;
  noMicrophone = false;
  $("hands-free").parentElement.hidden = false;
  page.closeCode = null;
  showSessionInfo(session);
  $("resume").hidden = true;
  const current = (client = window.__audioChat = new AudioChatClient({
    audioProcessing: params.get("processing") !== "off",
    preRollMs: Number(params.get("prerollMs") || 150),
    codec: params.get("codec") || "auto", // ?codec=pcm|opus forces one; by default Opus when WebCodecs has it
  }));
  current.addEventListener("status", (event) => current === client && onClientStatus(event.detail.state));
  current.addEventListener("caption", (event) => onCaption(event.detail));
  current.addEventListener("response", (event) => onResponse(event.detail.text));
  current.addEventListener("interrupted", () => helperBubble && helperBubble.classList.add("cut"));
  current.addEventListener("turn", () => {
    helperBubble = null;
  });
  current.addEventListener("error", (event) => onError(event.detail));
  current.addEventListener("closed", (event) => current === client && onClosed(event.detail));
  current.addEventListener("microphone", showMicrophone);
  page.phase = "connecting";
  try {
    page.connection = await current.connect({ websocketPath: session.websocket_path, token: session.client_token });
    page.codec = current.codec;
    const names = { opus: "Opus (WebCodecs)", pcm: "PCM" };
    $("codec").textContent = `Audio: ${names[current.codec] || current.codec}`;
    $("codec").dataset.codec = current.codec;
  } catch (error) {
    if (!(error instanceof ConnectionClosedError)) throw error;
    return; // onClosed has said why
  }
  page.phase = "ready";
  showControls(true);
  showMicrophone();
  try {
    await current.startMicrophone();
    applyTalkMode();
  } catch (error) {
    // Closed for good (or stopped) while the microphone was starting: the status says why, and stays.
    if (current !== client || page.phase === "closed" || page.phase === "stopped") return;
    noMicrophone = true;
    showMicrophone();
    $("talk").hidden = true;
    $("hands-free").parentElement.hidden = true;
    onClientStatus(ClientStatus.READY);
    $("status-detail").textContent = `No microphone: ${error.message}`;
    $("status-detail").hidden = false;
  }
}

function applyTalkMode() {
  const handsFree = $("hands-free").checked;
  $("talk").hidden = handsFree || noMicrophone;
  if (client) client.setTalking(handsFree);
  showMicrophone();
  if (client && client.status !== ClientStatus.HELPER_SPEAKING) onClientStatus(client.status);
}

function holdToTalk(pressed) {
  if (!client || $("hands-free").checked || !client.connected) return;
  if (pressed === ($("talk").getAttribute("aria-pressed") === "true")) return;
  $("talk").setAttribute("aria-pressed", String(pressed));
  $("talk").textContent = pressed ? "Talking… let go to send" : "Hold to talk";
  client.setTalking(pressed);
  showMicrophone();
}

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    $("start").disabled = true;
    const session = await api("/demo/sessions/", {
      method: "POST",
      body: JSON.stringify({ level: $("level").value, child_age: Number($("age").value) }),
    });
    $("conversation").replaceChildren();
    await begin(session);
  } catch (error) {
    page.phase = "error";
    showStatus("closed", "The chat could not start.", error.message);
  } finally {
    $("start").disabled = false;
  }
});

$("resume").addEventListener("click", async () => {
  const session = JSON.parse(localStorage.getItem(LAST_SESSION_KEY));
  try {
    await showStoredConversation(session);
    await begin(session);
  } catch (error) {
    page.phase = "error";
    showStatus("closed", "The chat could not continue.", error.message);
  }
});

$("stop").addEventListener("click", stop);
$("hands-free").addEventListener("change", applyTalkMode);

// Hold-to-talk: the pointer is captured, so the press lasts until it is released, whatever moves on the page.
const talk = $("talk");
talk.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  talk.setPointerCapture(event.pointerId);
  event.preventDefault();
  holdToTalk(true);
});
for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
  talk.addEventListener(type, () => holdToTalk(false));
}
talk.addEventListener("contextmenu", (event) => event.preventDefault()); // a long touch is a hold, not a menu
talk.addEventListener("keydown", (event) => {
  if ((event.key === " " || event.key === "Enter") && !event.repeat) {
    event.preventDefault();
    holdToTalk(true);
  }
});
talk.addEventListener("keyup", (event) => {
  if (event.key === " " || event.key === "Enter") holdToTalk(false);
});

$("text-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const content = $("text").value.trim();
  if (!content) return;
  if (!client || !client.sendText(content)) {
    // Kept in the box: nothing is lost while the chat is closed.
    $("status-detail").textContent = "Not sent: the chat is not connected. Press Continue, then send it again.";
    $("status-detail").hidden = false;
    return;
  }
  helperBubble = null;
  bubble("child", content);
  pendingReplies.push(placeholder());
  $("text").value = "";
});

$("resume").hidden = !localStorage.getItem(LAST_SESSION_KEY);
loadLevels();
