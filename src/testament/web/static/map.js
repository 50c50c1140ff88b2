// The incident map. Points come from /map/incidents.json; every string is set as text,
// never as HTML. Without a tile server the points still show on a plain background.
(function () {
  "use strict";
  const element = document.getElementById("map");
  if (!element || typeof L === "undefined") return;
  const map = L.map(element, { worldCopyJump: true }).setView([20, 0], 2);
  const tiles = element.dataset.tileUrl;
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: element.dataset.attribution || "" }).addTo(map);
  }
  const colours = { verified: "#1f6b3a", needs_review: "#8a4b00", disputed: "#8a3a00", rejected: "#9b1c1c" };
  fetch("/map/incidents.json", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      const layer = L.geoJSON(data, {
        pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
          radius: 8, weight: 2, color: "#fff", fillOpacity: 0.9,
          fillColor: colours[feature.properties.status] || "#24527a",
        }),
        onEachFeature: (feature, marker) => {
          const p = feature.properties;
          const box = document.createElement("div");
          const link = document.createElement("a");
          link.href = "/incidents/" + encodeURIComponent(p.id);
          link.textContent = p.title;
          box.appendChild(link);
          for (const line of [p.location, p.event_time && "Event: " + p.event_time,
                              p.precision && "Precision: " + p.precision, "Status: " + p.status]) {
            if (!line) continue;
            const div = document.createElement("div");
            div.textContent = line;
            box.appendChild(div);
          }
          marker.bindPopup(box);
          const tip = document.createElement("span");
          tip.textContent = p.title;
          marker.bindTooltip(tip);
        },
      }).addTo(map);
      element.dataset.points = String(data.features.length);
      if (data.features.length) map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 12 });
    });
})();
