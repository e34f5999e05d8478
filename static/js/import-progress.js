// The import page's progress bar: polls the job's JSON status and moves the bar; when the
// job has ended, reloads the page for the report. Without JavaScript a meta refresh does it.
(function () {
  var box = document.querySelector(".job-progress[data-status-url]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  function show(data) {
    bar.max = data.total || 1;
    bar.value = data.total ? data.done : 0;
    bar.textContent = data.percent + "%";
    ["status_label", "done", "total", "percent"].forEach(function (key) {
      var field = box.querySelector('[data-field="' + key + '"]');
      if (field) { field.textContent = data[key]; }
    });
  }
  function poll() {
    fetch(box.getAttribute("data-status-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        show(data);
        if (data.finished) { window.location.reload(); } else { window.setTimeout(poll, 1500); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
