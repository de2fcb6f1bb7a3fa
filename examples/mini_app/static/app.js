// The whole Mini App frontend: log in with initData, then JSON frames {type, data}.
"use strict";

const $ = (id) => document.getElementById(id);
const initData = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData")
  || (window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData) || "";
const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new WebSocket(`${scheme}://${location.host}/ws`);

function send(type, data) {
  socket.send(JSON.stringify({ type, data }));
}

function render(state) {
  $("counter").textContent = String(state.counter);
  $("note").textContent = state.note;
}

socket.addEventListener("open", () => send("login", { initData }));

socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.type === "welcome") {
    $("status").textContent = "connected";
    $("user").textContent = message.data.user.first_name;
    $("inc").disabled = false;
    $("save").disabled = false;
  } else if (message.type === "state") {
    render(message.data);
    $("last").textContent = `the bot says: counter is ${message.data.counter}`;
  }
});

socket.addEventListener("close", (event) => {
  $("status").textContent = `disconnected (${event.code} ${event.reason})`;
  $("inc").disabled = true;
  $("save").disabled = true;
});

$("inc").addEventListener("click", () => send("inc"));
$("note-form").addEventListener("submit", (event) => {
  event.preventDefault();
  send("note", $("note-input").value);
});
