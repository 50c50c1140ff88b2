// The incident form: a map for picking the location, and "Add another" rows.
// Loaded as a file (the CSP forbids inline scripts). Without JavaScript the form works as
// plain HTML: typed coordinates and one blank attribution and victim row.
(function () {
  "use strict";

  // --- Location: the latitude and longitude inputs stay the source of truth. ---------
  const picker = document.querySelector(".location-picker");
  const element = document.getElementById("location-map");
  const latInput = document.getElementById("latitude");
  const lonInput = document.getElementById("longitude");
  if (picker && element && latInput && lonInput && typeof L !== "undefined") {
    picker.hidden = false;
    const map = L.map(element, { worldCopyJump: true }).setView([20, 0], 2);
    const tiles = element.dataset.tileUrl;
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 18, attribution: element.dataset.attribution || "" }).addTo(map);
    }
    let marker = null;

    const typed = () => {
      const lat = parseFloat(latInput.value.trim().replace(",", "."));
      const lon = parseFloat(lonInput.value.trim().replace(",", "."));
      const ok = Number.isFinite(lat) && Number.isFinite(lon) &&
        Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
      return ok ? L.latLng(lat, lon) : null;
    };
    const place = (latlng) => {
      if (!latlng) {
        if (marker) { marker.remove(); marker = null; }
        element.dataset.marker = "";
        return;
      }
      if (marker) marker.setLatLng(latlng);
      else {
        marker = L.circleMarker(latlng, {
          radius: 8, weight: 2, color: "#fff", fillColor: "#24527a", fillOpacity: 0.95,
        }).addTo(map);
      }
      element.dataset.marker = latlng.lat.toFixed(5) + "," + latlng.lng.toFixed(5);
    };

    const start = typed();
    place(start);
    if (start) map.setView(start, tiles ? 10 : 5);

    map.on("click", (event) => {
      const latlng = event.latlng.wrap();
      latInput.value = latlng.lat.toFixed(5);
      lonInput.value = latlng.lng.toFixed(5);
      place(latlng);
    });
    const follow = () => {
      const latlng = typed();
      place(latlng);
      if (latlng && !map.getBounds().contains(latlng)) map.panTo(latlng);
    };
    latInput.addEventListener("input", follow);
    lonInput.addEventListener("input", follow);
  }

  // --- "Add another": clone the row <template> with a fresh index. --------------------
  document.querySelectorAll("[data-add-row]").forEach((button) => {
    const prefix = button.dataset.addRow;
    const rows = document.getElementById(prefix + "-rows");
    const template = document.getElementById(prefix + "-row-template");
    if (!rows || !template) return;
    button.hidden = false;
    let next = 1 + Math.max(-1, ...Array.from(rows.querySelectorAll("[data-row-index]"),
      (row) => parseInt(row.dataset.rowIndex, 10) || 0));
    button.addEventListener("click", () => {
      const index = String(next++);
      const fragment = template.content.cloneNode(true);
      fragment.querySelectorAll("[data-row-index], [id], [name], label[for]").forEach((node) => {
        for (const attribute of ["data-row-index", "id", "name", "for"]) {
          const value = node.getAttribute(attribute);
          if (value !== null) node.setAttribute(attribute, value.replace("__INDEX__", index));
        }
      });
      const first = fragment.querySelector("input, select");
      rows.appendChild(fragment);
      first?.focus();
    });
  });
})();
