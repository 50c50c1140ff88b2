// testament workbench behaviour. Loaded as a file: the CSP forbids inline scripts.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  document.body.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = csrf;
  });

  // Reveal: always behind the content warning; the server records each reveal.
  const dialog = document.getElementById("content-warning");
  let pending = null;
  function ask(action) {
    if (!dialog) return;
    pending = action;
    dialog.showModal();
  }
  dialog?.addEventListener("close", () => {
    if (dialog.returnValue === "reveal" && pending) pending();
    pending = null;
  });

  function revealImage(img) {
    if (img.dataset.clearSrc) img.src = img.dataset.clearSrc;
    img.classList.remove("protected");
    img.dataset.revealed = "true";
  }

  async function revealPlayer(player) {
    const response = await fetch(player.dataset.revealUrl, {
      method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
    });
    if (!response.ok) { alert("The reveal could not be recorded, so the media stays blurred."); return; }
    const video = player.querySelector("video");
    if (video) { video.classList.remove("protected"); video.dataset.revealed = "true"; }
    player.querySelectorAll("img[data-clear-src]").forEach(revealImage);
    document.querySelectorAll(".strip img[data-clear-src]").forEach(revealImage);
    player.querySelector(".veil")?.setAttribute("hidden", "");
    document.querySelectorAll("[data-reveal-player]").forEach((b) => b.setAttribute("hidden", ""));
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-reveal-image]");
    if (button) {
      event.preventDefault();
      const img = document.getElementById(button.dataset.revealImage);
      ask(() => { revealImage(img); button.remove(); });
      return;
    }
    const playerButton = event.target.closest("[data-reveal-player]");
    if (playerButton) {
      event.preventDefault();
      const player = document.getElementById(playerButton.dataset.revealPlayer);
      ask(() => revealPlayer(player));
      return;
    }
    const seek = event.target.closest("[data-seek]");
    if (seek) {
      const video = document.querySelector(".player video");
      if (video) {
        if (video.preload === "none") video.load();
        video.currentTime = parseFloat(seek.dataset.seek);
        video.focus();
      }
    }
  });

  // Blurred play: loading the original is itself recorded as a view.
  document.querySelectorAll(".player video").forEach((video) => {
    video.muted = true;
    video.addEventListener("volumechange", () => {
      if (!video.dataset.revealed && !video.muted) video.muted = true;
    });
  });

  // Drag and drop onto the upload or match form.
  document.querySelectorAll(".dropzone").forEach((zone) => {
    const input = zone.querySelector('input[type="file"]');
    const list = zone.querySelector(".chosen");
    const show = () => {
      if (list) list.textContent = Array.from(input.files).map((f) => f.name).join(", ");
    };
    input?.addEventListener("change", show);
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      if (input && e.dataTransfer?.files.length) { input.files = e.dataTransfer.files; show(); }
    });
  });
})();
