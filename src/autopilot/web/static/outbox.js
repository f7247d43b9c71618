// The approvals outbox: every decision is written to IndexedDB first, then sent; it leaves the
// outbox only once the server has answered it. Offline, or when the network fails mid-request, it
// simply stays there ("waiting to send") and is replayed later with the same Idempotency-Key and
// the draft's version as it was read (If-Match), so the server applies it at most once and refuses
// it (412) if the draft changed meanwhile.
// Loaded by the approvals page and by the service worker (importScripts): both replay the same
// outbox, the page on the `online` event, the worker on Background Sync. A Web Lock makes them take
// turns, so a decision is not POSTed twice by the two at once.
(function (scope) {
  "use strict";
  const DATABASE = "autopilot-outbox";
  const OUTBOX = "decisions"; // keyPath "key": the decision's Idempotency-Key
  // keyPath "id" (a draft's): an answer for the reviewer that came while no page may have been open
  // to show it — the draft changed before its decision arrived (412), or the decision was refused.
  const NOTICES = "notices";
  const LOCK = "approvals-outbox";

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(OUTBOX, { keyPath: "key" });
        request.result.createObjectStore(NOTICES, { keyPath: "id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  /** Run *work(store)* in one transaction of *storeName*; resolves with its request's result once committed. */
  async function transact(storeName, mode, work) {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(storeName, mode);
        const request = work(tx.objectStore(storeName));
        tx.oncomplete = () => resolve(request ? request.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  const all = (storeName) => transact(storeName, "readonly", (store) => store.getAll());
  const put = (storeName, value) => transact(storeName, "readwrite", (store) => store.put(value));
  const remove = (storeName, key) => transact(storeName, "readwrite", (store) => store.delete(key));

  /** A new decision in the outbox, before any attempt to send it. */
  function newDecision(id, version, decision, comment, csrf) {
    return {
      key: crypto.randomUUID(),
      id: String(id),
      version: Number(version),
      decision,
      comment: comment || "",
      csrf: csrf || "",
      at: Date.now(),
    };
  }

  /** POST one decision; what the outcome means for the outbox. Throws only on a network failure. */
  async function send(entry) {
    const response = await fetch(`/approvals/${encodeURIComponent(entry.id)}/decision`, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // logged out: the redirect to /login is not an answer to the decision
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        // The token of the session the decision was taken in, never a newer one: if that session
        // ended, whoever is logged in now must not send someone else's decisions (403: refused).
        "X-CSRF-Token": entry.csrf,
        "Idempotency-Key": entry.key,
        "If-Match": `"${entry.version}"`,
      },
      body: JSON.stringify({ decision: entry.decision, comment: entry.comment }),
    });
    let body = {};
    try {
      body = await response.json();
    } catch (error) {
      body = {};
    }
    if (response.type === "opaqueredirect" || response.status === 401) {
      return { kind: "refused", body: { detail: "your session ended: log in and decide again" } };
    }
    if (response.ok) return { kind: "decided", body };
    if (response.status === 412) return { kind: "conflict", body };
    if (response.status >= 500 || response.status === 429 || response.status === 408) return { kind: "later", body };
    return { kind: "refused", body }; // 403, 404, 409, 422: sending it again would not change the answer
  }

  async function replayUnlocked(notify) {
    const result = { decided: 0, conflicts: 0, refused: 0, waiting: 0 };
    const entries = (await all(OUTBOX)).sort((a, b) => a.at - b.at);
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index];
      let outcome;
      try {
        outcome = await send(entry);
      } catch (error) {
        outcome = { kind: "later", body: {} }; // no network: it stays, with its key, for the next replay
      }
      if (outcome.kind === "later") {
        result.waiting = entries.length - index;
        await notify({ kind: "waiting", id: entry.id, waiting: result.waiting });
        return result;
      }
      if (outcome.kind === "decided") {
        await remove(NOTICES, entry.id);
        result.decided += 1;
      } else {
        const notice = { id: entry.id, kind: outcome.kind, decision: entry.decision, at: Date.now() };
        if (outcome.kind === "conflict") notice.current = outcome.body.current || {};
        else notice.detail = outcome.body.detail || "the server refused it";
        await put(NOTICES, notice);
        result[outcome.kind === "conflict" ? "conflicts" : "refused"] += 1;
      }
      // Only now, after the server's answer: a replay cut short before this line sends it again.
      await remove(OUTBOX, entry.key);
      await notify({ kind: outcome.kind, id: entry.id, decision: entry.decision, body: outcome.body });
    }
    return result;
  }

  /** Send every waiting decision, oldest first; stops at the first one the network cannot take. */
  function replay({ notify = async () => {} } = {}) {
    const run = () => replayUnlocked(notify);
    // Safari before 15.4 has no Web Locks; the server's idempotency still keeps each decision once.
    return scope.navigator && scope.navigator.locks ? scope.navigator.locks.request(LOCK, run) : run();
  }

  scope.ApprovalOutbox = {
    newDecision,
    add: (entry) => put(OUTBOX, entry),
    waiting: () => all(OUTBOX),
    notices: () => all(NOTICES),
    forgetNotice: (id) => remove(NOTICES, String(id)),
    replay,
  };
})(self);
