// Pre-select the browser's own time zone on sign-up, and send the CSRF token with HTMX requests.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("select[data-detect-zone]");
  if (select && select.value === "UTC") {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
  }
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (token) event.detail.headers["X-CSRF-Token"] = token;
  });
});

// On a phone the tab bar scrolls sideways: keep the current section's tab in view.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelector('.tabs a[aria-current="page"]')?.scrollIntoView({ block: "nearest", inline: "center" });
});
