// The Approvals page: approve with one tap, reject with a comment, or approve all. Each decision
// goes to the outbox (outbox.js) first and is sent from there: at once when online; offline, the
// card says "waiting to send" and the outbox is replayed on the `online` event and by Background
// Sync in the service worker, whichever comes first. A draft that changed meanwhile comes back
// (412) with its new text and version, and the card asks for a new decision.
document.addEventListener("DOMContentLoaded", () => {
  "use strict";
  const outbox = self.ApprovalOutbox;
  const queue = document.querySelector(".approvals");
  if (!outbox || !queue) return;
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  const cardOf = (id) => document.getElementById(`draft-${id}`);
  const cards = () => [...queue.querySelectorAll(".draft")];
  const open = () => cards().filter((c) => !c.dataset.state || c.dataset.state === "changed");
  const connection = document.getElementById("connection");
  const WAITING = { approve: "Approved — waiting to send", reject: "Rejected — waiting to send" };
  const DONE = { approve: "Approved", reject: "Rejected" };

  /** Show a card's state: waiting (kept on this phone), decided, changed (decide again) or refused. */
  function mark(card, state, sentence) {
    card.dataset.state = state;
    card.querySelector(".decision").textContent = sentence;
    const locked = state === "waiting" || state === "decided";
    card.querySelectorAll("button, textarea").forEach((control) => {
      control.disabled = locked;
    });
    if (locked) card.querySelector("details.reject")?.removeAttribute("open");
  }

  function showCurrent(card, current) {
    if (!current || current.text === undefined) return;
    const text = card.querySelector(".post-text");
    text.textContent = current.text; // the whole new text: this is what is decided on now
    card.dataset.version = String(current.version);
    card.querySelector(".version").textContent = String(current.version);
  }

  function summarize() {
    const left = open().length;
    const unsent = queue.querySelectorAll('.draft[data-state="waiting"]').length;
    const drafts = (n) => `${n} draft${n === 1 ? "" : "s"}`;
    document.getElementById("queue-summary").textContent = [
      left ? `${drafts(left)} waiting for your decision.` : unsent ? "" : `Nothing ${cards().length ? "else " : ""}waits for your approval.`,
      unsent ? `${unsent} decision${unsent === 1 ? "" : "s"} kept on this phone, waiting to send.` : "",
    ].join(" ").trim();
    const all = document.getElementById("approve-all");
    if (all) all.hidden = left < 2;
  }

  function showConnection() {
    connection.hidden = navigator.onLine;
    connection.textContent = "You are offline: your decisions are kept on this phone and sent when you are back online.";
  }

  /** An answer from the outbox replay, run by this page or by the service worker. */
  function onOutcome(message) {
    const card = cardOf(message.id);
    if (!card || message.kind === "waiting") return;
    if (message.kind === "decided") {
      mark(card, "decided", DONE[message.decision] || "Done");
      document.dispatchEvent(new Event("autopilot:badges"));
    } else if (message.kind === "conflict") {
      const current = (message.body && message.body.current) || {};
      showCurrent(card, current);
      mark(card, "changed", `This draft changed while you were away (now version ${current.version}): read it again and decide.`);
    } else if (message.kind === "refused") {
      mark(card, "refused", `Not sent: ${(message.body && message.body.detail) || "the server refused it"}`);
    }
    summarize();
  }

  function registerSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((registration) => registration.sync && registration.sync.register("approvals"))
      .catch(() => {}); // no Background Sync (Safari, Firefox) or not allowed: the `online` replay remains
  }

  async function sendWaiting() {
    if (!navigator.onLine) return registerSync();
    const result = await outbox.replay({ notify: onOutcome });
    if (result.waiting > 0) registerSync();
  }

  async function decide(cards, decision, comment) {
    for (const card of cards) {
      const entry = outbox.newDecision(card.dataset.draftId, card.dataset.version, decision, comment, csrf());
      await outbox.forgetNotice(entry.id); // a new decision answers the old notice
      await outbox.add(entry); // kept before the first attempt: nothing is lost if that fails
      mark(card, "waiting", WAITING[decision]);
    }
    summarize();
    await sendWaiting();
  }

  queue.addEventListener("click", (event) => {
    const button = event.target.closest("button.approve");
    if (button) decide([button.closest(".draft")], "approve", "");
  });
  queue.addEventListener("submit", (event) => {
    const form = event.target.closest(".reject-form");
    if (!form) return;
    event.preventDefault();
    decide([form.closest(".draft")], "reject", form.elements.comment.value.trim());
  });
  document.getElementById("approve-all")?.addEventListener("click", () => decide(open(), "approve", ""));

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.id) onOutcome(event.data);
    });
  }
  window.addEventListener("online", () => {
    showConnection();
    sendWaiting();
  });
  window.addEventListener("offline", showConnection);

  // What this phone still holds: decisions not sent yet, and drafts that changed before theirs arrived.
  (async () => {
    for (const entry of await outbox.waiting()) {
      const card = cardOf(entry.id);
      if (card) mark(card, "waiting", WAITING[entry.decision]);
    }
    for (const notice of await outbox.notices()) {
      const card = cardOf(notice.id);
      if (!card || notice.kind === "refused") await outbox.forgetNotice(notice.id); // said once is enough
      if (!card || card.dataset.state) continue; // no longer waiting, or decided again on this phone
      if (notice.kind === "refused") {
        mark(card, "refused", `Not sent: ${notice.detail}`);
      } else {
        if (Number(notice.current.version) > Number(card.dataset.version)) showCurrent(card, notice.current);
        mark(card, "changed", `This draft changed while you were away (now version ${card.dataset.version}): read it again and decide.`);
      }
    }
    showConnection();
    summarize();
    await sendWaiting();
  })();
});
