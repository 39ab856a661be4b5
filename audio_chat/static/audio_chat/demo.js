// The demo page: start or continue a chat session and talk to the helper by typing.
import { ClientMessageTypes, ServerMessageTypes } from "./protocol.js";

const $ = (id) => document.getElementById(id);
const LAST_SESSION_KEY = "audio-chat:last-session";
let socket = null;

function setStatus(text) { $("status").textContent = text; }

function addTurn(sender, text) {
  const item = document.createElement("li");
  item.className = sender;
  item.textContent = text;
  $("conversation").append(item);
  item.scrollIntoView({ block: "end" });
}

async function api(path, options = {}) {
  const response = await fetch(path, { headers: { "Content-Type": "application/json" }, ...options });
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(body && body.detail ? body.detail : `HTTP ${response.status}`);
  return body;
}

async function loadLevels() {
  const levels = await api("/api/levels/?limit=200");
  const select = $("level");
  select.replaceChildren(...levels.results.map((level) => new Option(level.title, level.slug)));
}

async function showStoredConversation(sessionId) {
  const page = await api(`/api/history/?session_id=${sessionId}&limit=200`);
  $("conversation").replaceChildren();
  for (const message of page.messages) addTurn(message.sender, message.text);
}

function connect(session) {
  localStorage.setItem(LAST_SESSION_KEY, JSON.stringify(session));
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${session.websocket_path}?token=${encodeURIComponent(session.client_token)}`);
  socket.binaryType = "arraybuffer";
  setStatus("Connecting…");
  socket.onmessage = (event) => {
    if (typeof event.data !== "string") return;
    const message = JSON.parse(event.data);
    switch (message.type) {
      case ServerMessageTypes.CONNECTION:
        setStatus(message.mode === "offline" ? "Offline mode: ask the helper anything about the level." : "Ready: ask the helper.");
        $("text-form").hidden = false;
        $("text").focus();
        break;
      case ServerMessageTypes.RESPONSE:
        addTurn("assistant", message.content);
        setStatus("Ready: ask the helper.");
        break;
      case ServerMessageTypes.ERROR:
        addTurn("error", message.message);
        break;
    }
  };
  socket.onclose = (event) => {
    $("text-form").hidden = true;
    setStatus(event.code === 1000 || event.code === 1005 ? "Disconnected." : `Disconnected (code ${event.code}).`);
  };
}

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const session = await api("/api/sessions/", {
      method: "POST",
      body: JSON.stringify({ level: $("level").value, child_age: Number($("age").value) }),
    });
    $("conversation").replaceChildren();
    if (socket) socket.close();
    connect(session);
  } catch (error) {
    setStatus(`Could not start: ${error.message}`);
  }
});

$("resume").addEventListener("click", async () => {
  const session = JSON.parse(localStorage.getItem(LAST_SESSION_KEY));
  try {
    await showStoredConversation(session.id);
    if (socket) socket.close();
    connect(session);
  } catch (error) {
    setStatus(`Could not continue: ${error.message}`);
  }
});

$("text-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const content = $("text").value.trim();
  if (!content || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: ClientMessageTypes.TEXT, content }));
  addTurn("child", content);
  $("text").value = "";
  setStatus("The helper is thinking…");
});

$("resume").hidden = !localStorage.getItem(LAST_SESSION_KEY);
loadLevels().catch((error) => setStatus(`Could not load levels: ${error.message}`));
