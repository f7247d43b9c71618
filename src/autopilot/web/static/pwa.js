// The installable app, on every page: registers the service worker (/sw.js), fills the navigation's
// count badges (and shows the last known count offline), forgets what this device kept for the
// person (pages for offline reading, counts, unsent decisions) at log-out, and turns this device's
// push notifications on or off ([data-push-toggle]).
(() => {
  "use strict";
  const PAGES_CACHE = "pages-v1"; // sw.js keeps the pages it has seen there
  const OUTBOX_DATABASE = "autopilot-outbox"; // outbox.js: the decisions not sent yet
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
      console.warn(`The app works online only: the service worker did not install (${error})`);
    });
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.kind === "badge") fillBadges();
    });
  }

  // -- badges -----------------------------------------------------------------------------------

  function showCount(badge, count) {
    badge.hidden = !(count > 0);
    badge.textContent = badge.hidden ? "" : count > 99 ? "99+" : String(count);
  }

  async function fillBadge(badge) {
    const source = badge.dataset.badgeSrc;
    const kept = `badge:${source}`;
    if (navigator.onLine) {
      try {
        const response = await fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (response.ok) {
          const { count } = await response.json();
          localStorage.setItem(kept, String(count));
          showCount(badge, count);
          return;
        }
      } catch (error) {
        // the network went away meanwhile: the last known count below
      }
    }
    const last = localStorage.getItem(kept);
    if (last !== null) showCount(badge, Number(last));
  }

  function fillBadges() {
    document.querySelectorAll("[data-badge-src]").forEach(fillBadge);
  }

  document.addEventListener("DOMContentLoaded", fillBadges);
  document.addEventListener("autopilot:badges", fillBadges); // a page changed a count (approvals.js)
  window.addEventListener("online", fillBadges);

  // -- log-out: what was kept for offline reading belongs to the person logging out ---------------

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-forget-offline") || form.dataset.forgotten) return;
    event.preventDefault();
    try {
      if ("caches" in window) await caches.delete(PAGES_CACHE);
      Object.keys(localStorage).filter((k) => k.startsWith("badge:")).forEach((k) => localStorage.removeItem(k));
      // Decisions not sent yet could only be refused now (their session ends here): forget them too.
      await new Promise((resolve) => {
        const request = indexedDB.deleteDatabase(OUTBOX_DATABASE);
        request.onsuccess = request.onerror = request.onblocked = resolve;
      });
    } finally {
      form.dataset.forgotten = "1";
      form.submit();
    }
  });

  // -- push notifications on this device --------------------------------------------------------

  function keyBytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || `the server answered ${response.status}`);
    }
  }

  async function subscribe() {
    if ((await Notification.requestPermission()) !== "granted") {
      throw new Error("notifications are blocked for this site: allow them in the browser's site settings");
    }
    const registration = await navigator.serviceWorker.ready;
    const answer = await fetch("/api/v1/push/key", { headers: { Accept: "application/json" } });
    if (!answer.ok) throw new Error("push notifications are not set up on this server");
    const { key } = await answer.json();
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key),
    });
    await post("/push/subscribe", subscription.toJSON());
  }

  async function unsubscribe() {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (!subscription) return;
    await post("/push/unsubscribe", { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
  }

  async function setUpToggle(button) {
    const status = document.getElementById(button.getAttribute("aria-describedby") || "");
    const say = (text) => {
      if (status) status.textContent = text;
    };
    const show = (on) => {
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? button.dataset.labelOn : button.dataset.labelOff;
    };
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      say("This browser cannot show notifications from the app (on an iPhone: add it to the Home Screen first).");
      return;
    }
    const registration = await navigator.serviceWorker.ready;
    show(Boolean(await registration.pushManager.getSubscription()));
    button.hidden = false;
    button.addEventListener("click", async () => {
      const on = button.getAttribute("aria-pressed") === "true";
      button.disabled = true;
      try {
        await (on ? unsubscribe() : subscribe());
        show(!on);
        say(on ? "Notifications are off on this device." : "Notifications are on for this device.");
      } catch (error) {
        say(`Could not change notifications: ${error.message}`);
      } finally {
        button.disabled = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-push-toggle]").forEach(setUpToggle);
  });
})();
