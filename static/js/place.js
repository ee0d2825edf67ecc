// The activity form's place: "use my location" asks the phone (navigator.geolocation);
// "use the saved place" copies the chosen grid's or community's saved place. Configured by
// data attributes (no inline script: the Content-Security-Policy allows this site's files):
//   <button data-locate="LAT_ID LNG_ID RADIUS_ID" data-radius="200" data-msg-*>
//   <button data-unit-place="UNIT_SELECT_ID LAT_ID LNG_ID RADIUS_ID" data-fixed-unit="ID">
//   <span hidden data-place-for="UNIT_ID" data-lat data-lng>
(() => {
  const byId = (id) => document.getElementById(id);
  const status = (text) => {
    const box = document.querySelector("[data-locate-status]");
    if (box) box.textContent = text || "";
  };
  const fill = (ids, lat, lng, radius) => {
    const [latBox, lngBox, radiusBox] = ids.map(byId);
    if (!latBox || !lngBox) return;
    latBox.value = Number(lat).toFixed(6);
    lngBox.value = Number(lng).toFixed(6);
    if (radiusBox && !radiusBox.value && radius) radiusBox.value = radius;
  };
  document.addEventListener("click", (event) => {
    const locate = event.target.closest("[data-locate]");
    if (locate) {
      event.preventDefault();
      if (!navigator.geolocation) { status(locate.dataset.msgFail); return; }
      status(locate.dataset.msgWait);
      navigator.geolocation.getCurrentPosition(
        (position) => {
          fill(locate.dataset.locate.split(" "), position.coords.latitude,
            position.coords.longitude, locate.dataset.radius);
          status(locate.dataset.msgOk);
        },
        () => status(locate.dataset.msgFail),
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
      );
      return;
    }
    const saved = event.target.closest("[data-unit-place]");
    if (saved) {
      event.preventDefault();
      const [unitId, ...ids] = saved.dataset.unitPlace.split(" ");
      const unit = saved.dataset.fixedUnit || (byId(unitId) && byId(unitId).value);
      const place = document.querySelector(`[data-place-for="${unit}"]`);
      if (place) fill(ids, place.dataset.lat, place.dataset.lng, saved.dataset.radius);
    }
  });
})();
