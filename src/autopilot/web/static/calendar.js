// The Calendar page: drag a queued post onto a free slot of its account to move it. The drop
// submits the same form the tap flow uses ("Move…", then a slot), so without JS nothing is lost.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("drag-move");
  if (!form) return;
  let dragged = null;
  const fits = (slot) => dragged && slot.dataset.integration === dragged.dataset.integration;

  for (const post of document.querySelectorAll("[data-move-id]")) {
    post.draggable = true;
    post.addEventListener("dragstart", (event) => {
      dragged = post;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", post.dataset.moveId);
      document.body.classList.add("dragging");
    });
    post.addEventListener("dragend", () => {
      dragged = null;
      document.body.classList.remove("dragging");
    });
  }

  for (const slot of document.querySelectorAll("[data-slot-at]")) {
    slot.addEventListener("dragover", (event) => {
      if (!fits(slot)) return;
      event.preventDefault(); // allows the drop
      event.dataTransfer.dropEffect = "move";
      slot.classList.add("drop-here");
    });
    slot.addEventListener("dragleave", () => slot.classList.remove("drop-here"));
    slot.addEventListener("drop", (event) => {
      if (!fits(slot)) return;
      event.preventDefault();
      form.elements.namedItem("content_id").value = dragged.dataset.moveId;
      form.elements.namedItem("at").value = slot.dataset.slotAt;
      form.elements.namedItem("timezone").value = slot.dataset.timezone;
      form.submit();
    });
  }
});
