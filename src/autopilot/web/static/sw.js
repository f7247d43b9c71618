const BUILD = {"version": "dev", "shell": []};
// The service worker (served at /sw.js by web/pwa.py, which writes the line above: this build's
// version and the shell files to precache).
// - The shell (CSS, scripts, icons, the offline page) is precached at install, in a cache named
//   after the version; caches of other versions are deleted when this one activates.
// - Pages: network first, so the phone shows what the server says whenever it can; each page that
//   loads is kept, so it still opens offline (the approval queue on a train). A page never opened
//   online shows the offline page. Only GET is ever cached: decisions are POSTs and go to the
//   outbox (outbox.js), never to a cache.
// - push: one notification per tag (the product sends tag "approvals" with the count, which
//   replaces the earlier one); a click opens or focuses the page it names.
// - sync "approvals": Background Sync replays the outbox when the network is back. The page
//   replays it too (on `online`), for browsers without Background Sync; a Web Lock in the outbox
//   makes the two take turns, and the server's Idempotency-Key check keeps each decision once.
importScripts("/static/outbox.js");

const SHELL_CACHE = `shell-${BUILD.version}`;
const PAGES_CACHE = "pages-v1";
const KEPT_PAGES = 40; // the most recently loaded pages kept for offline reading
const OFFLINE_PAGE = "/offline";
const ICON = "/static/icons/icon-192.png";
const BADGE = "/static/icons/badge-96.png";
const SYNC_TAG = "approvals";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(BUILD.shell))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== SHELL_CACHE && n !== PAGES_CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // POSTs go to the network as they are, never to a cache
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(pageNetworkFirst(request));
  } else if (BUILD.shell.includes(url.pathname)) {
    event.respondWith(caches.match(request, { cacheName: SHELL_CACHE }).then((hit) => hit || fetch(request)));
  }
});

async function pageNetworkFirst(request) {
  try {
    const response = await fetch(request);
    // Only a page as its owner saw it: not an error, not the log-in page a redirect led to.
    if (response.ok && response.type === "basic" && !response.redirected) {
      const copy = response.clone();
      const cache = await caches.open(PAGES_CACHE);
      await cache.put(request, copy);
      await forgetOldPages(cache);
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request, { cacheName: PAGES_CACHE, ignoreVary: true });
    return kept || (await caches.match(OFFLINE_PAGE, { cacheName: SHELL_CACHE })) || Response.error();
  }
}

async function forgetOldPages(cache) {
  const keys = await cache.keys(); // in insertion order; a page loaded again moves to the end
  await Promise.all(keys.slice(0, Math.max(0, keys.length - KEPT_PAGES)).map((key) => cache.delete(key)));
}

// -- push ---------------------------------------------------------------------------------------

/** The product's payload {title, body, url, tag, count}; anything else still shows a notification. */
function readPush(data) {
  let payload = {};
  try {
    payload = data ? data.json() : {};
  } catch (error) {
    payload = { body: data.text() };
  }
  if (payload === null || typeof payload !== "object") payload = { body: String(payload) };
  return {
    title: typeof payload.title === "string" && payload.title ? payload.title : "TechLead AutoPilot",
    body: typeof payload.body === "string" ? payload.body : "",
    url: notificationTarget(payload.url),
    tag: typeof payload.tag === "string" ? payload.tag : "",
    count: Number.isInteger(payload.count) ? payload.count : null,
  };
}

/** Where a notification leads: a path of this app only (a payload cannot send the user elsewhere). */
function notificationTarget(url) {
  try {
    const target = new URL(typeof url === "string" && url ? url : "/", self.location.origin);
    return target.origin === self.location.origin ? target.pathname + target.search + target.hash : "/";
  } catch (error) {
    return "/";
  }
}

async function showPush(data) {
  const push = readPush(data);
  const options = { body: push.body, icon: ICON, badge: BADGE, data: { url: push.url, count: push.count } };
  if (push.tag) {
    // Same tag: the new notification replaces the old one (one "N posts wait" line, not N lines),
    // and renotify makes the phone buzz again for the new count.
    options.tag = push.tag;
    options.renotify = true;
  }
  if (push.count !== null) {
    if (self.navigator.setAppBadge) await self.navigator.setAppBadge(push.count).catch(() => {});
    await tellPages({ kind: "badge", tag: push.tag, count: push.count });
  }
  await self.registration.showNotification(push.title, options);
}

self.addEventListener("push", (event) => event.waitUntil(showPush(event.data)));

async function openTarget(notification) {
  notification.close();
  const target = new URL(notificationTarget(notification.data && notification.data.url), self.location.origin);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = windows.find((client) => new URL(client.url).pathname === target.pathname);
  if (same) return same.focus();
  if (windows.length) return windows[0].navigate(target.href).then((client) => client && client.focus());
  return self.clients.openWindow(target.href);
}

self.addEventListener("notificationclick", (event) => event.waitUntil(openTarget(event.notification)));

// -- the outbox ---------------------------------------------------------------------------------

async function tellPages(message) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) client.postMessage(message);
}

self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(
    self.ApprovalOutbox.replay({ notify: tellPages }).then((result) => {
      // Rejecting asks the browser to fire the sync again later (with back-off).
      if (result.waiting > 0) throw new Error(`${result.waiting} decisions still waiting for the network`);
    }),
  );
});
