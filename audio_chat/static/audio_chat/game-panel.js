// The demo page's game panel: share a screenshot (a sample of the chosen level, or a picture file) and the
// game's state with the helper. Self-contained: it uses the page's client (window.__audioChat) once a chat runs.
const $ = (id) => document.getElementById(id);
const panel = (window.__gamePanel = { picturesSent: 0, statesSent: 0 });

function client() {
  const chat = window.__audioChat;
  return chat && chat.socket && chat.socket.readyState === WebSocket.OPEN ? chat : null;
}

function note(text) {
  $("game-note").textContent = text;
}

function base64Of(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

function showPicture(blob) {
  const item = document.createElement("li");
  item.className = "child picture";
  const image = document.createElement("img");
  image.src = URL.createObjectURL(blob);
  image.alt = "A picture of the game, shared with the helper";
  item.append(image);
  $("conversation").append(item);
  item.scrollIntoView({ block: "end" });
}

async function sharePicture(blob) {
  const chat = client();
  if (!chat) return note("Start a chat first.");
  if (!chat.sendImage(base64Of(await blob.arrayBuffer()))) return note("Not connected.");
  panel.picturesSent += 1;
  showPicture(blob);
  note("Picture shared: ask the helper about it.");
}

$("attach-sample").addEventListener("click", async () => {
  const slug = $("level").value;
  const response = await fetch(`${$("game-panel").dataset.samples}${slug}.jpg`);
  if (!response.ok) return note("This level has no sample picture.");
  await sharePicture(await response.blob());
});

$("attach-file").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  if (file) await sharePicture(file);
  event.target.value = "";
});

$("game-state-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const chat = client();
  if (!chat) return note("Start a chat first.");
  const state = {};
  if ($("game-step").value.trim()) state.step = $("game-step").value.trim();
  state.items = $("game-items").value.split(",").map((item) => item.trim()).filter(Boolean).slice(0, 20);
  state.attempts = Number($("game-attempts").value || 0);
  if (chat.sendGameState(state)) {
    panel.statesSent += 1;
    note("The helper knows where you are now.");
  }
});
