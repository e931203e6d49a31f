// The event map: the counts of the table beside it as clustered markers at the units' coordinates (Leaflet with
// leaflet.markercluster, served from /static/vendor). Without this script the page is the table alone.
(function () {
  "use strict";
  var section = document.getElementById("map-section");
  var source = document.getElementById("map-data");
  if (!section || !source || typeof L === "undefined" || !L.markerClusterGroup) { return; }
  var data = JSON.parse(source.textContent);
  section.hidden = false;

  var map = L.map("event-map", { scrollWheelZoom: false, attributionControl: !!data.tiles, minZoom: 3, maxZoom: 18 });
  if (data.tiles) {
    L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  } else {
    map.getContainer().classList.add("event-map-plain");   // no tiles: a plain background, nothing fetched
  }

  // Every unit of the subtree as a small point, counted or not: where the schools are, on a map without tiles.
  var bounds = [];
  data.points.forEach(function (p) {
    bounds.push([p.lat, p.lon]);
    L.circleMarker([p.lat, p.lon], { radius: 3, weight: 1, color: "#4a4a4a", fillOpacity: 0.6, interactive: false })
      .addTo(map);
  });

  function countIcon(count, cluster) {
    var size = count < 10 ? 34 : count < 100 ? 40 : 48;
    return L.divIcon({
      className: "map-count" + (cluster ? " map-count-cluster" : ""),
      html: "<span>" + String(count) + "</span>",
      iconSize: [size, size]
    });
  }

  var clusters = L.markerClusterGroup({
    showCoverageOnHover: false,
    // A cluster shows the sum of its units' counts, not how many units it holds.
    iconCreateFunction: function (cluster) {
      var sum = cluster.getAllChildMarkers().reduce(function (total, m) { return total + m.options.count; }, 0);
      return countIcon(sum, true);
    }
  });
  data.markers.forEach(function (m) {
    var label = m.name + ": " + m.count + " " + data.labels.events;
    var marker = L.marker([m.lat, m.lon], { icon: countIcon(m.count, false), title: label, alt: label, count: m.count,
                                            keyboard: true });
    var popup = document.createElement("p");
    popup.textContent = label;
    marker.bindPopup(popup);
    clusters.addLayer(marker);
    bounds.push([m.lat, m.lon]);
  });
  map.addLayer(clusters);

  if (bounds.length) {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  } else {
    map.setView([59.3293, 18.0686], 11);   // Stockholm, when no unit has coordinates yet
  }
})();
